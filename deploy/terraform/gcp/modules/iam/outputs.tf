output "emails" {
  description = "Service account e-mail per workload; the overlays' iam.gke.io/gcp-service-account annotations."
  value       = { for k, sa in google_service_account.this : k => sa.email }
}

output "members" {
  description = "IAM member strings (serviceAccount:…) per workload."
  value       = { for k, sa in google_service_account.this : k => "serviceAccount:${sa.email}" }
}
