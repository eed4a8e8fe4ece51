# Document 001's licensing key: RSA_SIGN_PKCS1_4096_SHA256, ASYMMETRIC_SIGN, HSM protection. It is the root that
# certifies Atrium's short-lived in-process signing keys (DESIGN.md), so KMS is not on the acquire path.
resource "google_kms_key_ring" "this" {
  project  = var.project_id
  name     = var.key_ring_name
  location = var.location
}

resource "google_kms_crypto_key" "root" {
  name     = var.key_name
  key_ring = google_kms_key_ring.this.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "RSA_SIGN_PKCS1_4096_SHA256"
    protection_level = "HSM"
  }

  # Asymmetric keys do not rotate automatically; docs/runbooks/signing-key-rotation.md adds a version by hand.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "signers" {
  for_each      = toset(var.signer_members)
  crypto_key_id = google_kms_crypto_key.root.id
  role          = "roles/cloudkms.signerVerifier"
  member        = each.value
}

resource "google_kms_crypto_key_iam_member" "public_key_viewers" {
  for_each      = toset(var.public_key_viewer_members)
  crypto_key_id = google_kms_crypto_key.root.id
  role          = "roles/cloudkms.publicKeyViewer"
  member        = each.value
}
