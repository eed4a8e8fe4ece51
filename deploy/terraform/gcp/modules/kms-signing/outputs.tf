output "crypto_key_id" {
  description = "Crypto key resource id; ATRIUM_KMS_KEY is <this>/cryptoKeyVersions/<n>."
  value       = google_kms_crypto_key.root.id
}

output "key_ring_id" {
  description = "Key ring resource id."
  value       = google_kms_key_ring.this.id
}
