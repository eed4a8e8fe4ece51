output "secret_ids" {
  description = "Secret resource ids by short name."
  value       = { for k, s in google_secret_manager_secret.this : k => s.id }
}
