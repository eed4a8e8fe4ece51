output "host" {
  description = "Private address of the primary."
  value       = google_redis_instance.this.host
}

output "port" {
  description = "Port (6378 when TLS is on)."
  value       = google_redis_instance.this.port
}

output "auth_string" {
  description = "AUTH string; written into the redis-url secret, never printed."
  value       = google_redis_instance.this.auth_string
  sensitive   = true
}

output "server_ca_certs" {
  description = "CA certificates to verify the server's TLS certificate."
  value       = google_redis_instance.this.server_ca_certs
}
