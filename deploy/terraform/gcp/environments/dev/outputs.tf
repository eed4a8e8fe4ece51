output "cluster_name" {
  description = "GKE cluster name."
  value       = module.gke.cluster_name
}

output "service_account_emails" {
  description = "Workload Identity service accounts for the overlay's iam.gke.io/gcp-service-account annotations."
  value       = module.iam.emails
}

output "signing_key" {
  description = "Crypto key id; ATRIUM_KMS_KEY is <this>/cryptoKeyVersions/1."
  value       = module.kms_signing.crypto_key_id
}

output "postgres_private_ip" {
  description = "Private IP of Cloud SQL, for the database URLs."
  value       = module.postgres.private_ip_address
}

output "ingress_ip" {
  description = "Global static address for the Ingress (kubernetes.io/ingress.global-static-ip-name: atrium-ingress)."
  value       = google_compute_global_address.ingress.address
}

output "redis_cluster_mode" {
  description = "True when Redis is Memorystore for Redis Cluster (the atrium-redis-cluster secret, ATRIUM_REDIS_CLUSTER, says the same)."
  value       = module.redis.cluster_mode
}

output "redis_endpoint" {
  description = "host:port Atrium connects to: the cluster's discovery endpoint in cluster mode, the instance's primary otherwise."
  value       = module.redis.cluster_mode ? module.redis.discovery_endpoint : "${module.redis.host}:${module.redis.port}"
}
