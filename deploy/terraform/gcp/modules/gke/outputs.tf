output "cluster_name" {
  description = "Name of the cluster."
  value       = google_container_cluster.this.name
}

output "cluster_endpoint" {
  description = "Control-plane endpoint."
  value       = google_container_cluster.this.endpoint
  sensitive   = true
}

output "workload_pool" {
  description = "Workload Identity pool (<project>.svc.id.goog)."
  value       = "${var.project_id}.svc.id.goog"
}

output "node_service_account" {
  description = "Service account of the nodes."
  value       = google_service_account.nodes.email
}
