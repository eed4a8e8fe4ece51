output "policy_name" {
  description = "Name of the security policy (BackendConfig securityPolicy.name)."
  value       = google_compute_security_policy.edge.name
}

output "policy_id" {
  description = "Resource id of the security policy."
  value       = google_compute_security_policy.edge.id
}
