output "network_id" {
  description = "Id of the VPC network."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "Name of the VPC network."
  value       = google_compute_network.this.name
}

output "gke_subnet_name" {
  description = "Name of the GKE subnet."
  value       = google_compute_subnetwork.gke.name
}

output "pods_range_name" {
  description = "Secondary range name for pods."
  value       = "pods"
}

output "services_range_name" {
  description = "Secondary range name for services."
  value       = "services"
}

output "private_service_access_connection" {
  description = "The Private Service Access connection; data services depend on it."
  value       = google_service_networking_connection.private_service_access.id
}

output "private_service_access_range_name" {
  description = "Name of the reserved range for data services."
  value       = google_compute_global_address.private_service_access.name
}
