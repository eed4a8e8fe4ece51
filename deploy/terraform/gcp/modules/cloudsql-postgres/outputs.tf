output "instance_name" {
  description = "Instance name (for gcloud sql backups restore)."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "project:region:instance, for the Cloud SQL connectors."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip_address" {
  description = "Private address of the instance (there is no public one)."
  value       = google_sql_database_instance.this.private_ip_address
}
