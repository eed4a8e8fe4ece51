output "cluster_mode" {
  description = "True when the store is Memorystore for Redis Cluster: the app needs ATRIUM_REDIS_CLUSTER=true with `url`."
  value       = var.cluster_mode
}

output "host" {
  description = "Private address of the instance's primary; null in cluster mode."
  value       = try(local.instance.host, null)
}

output "port" {
  description = "Port of the instance (6378 when TLS is on), or of the cluster's discovery endpoint."
  value       = var.cluster_mode ? local.discovery.port : local.instance.port
}

output "auth_string" {
  description = "AUTH string of the instance; written into the redis-url secret, never printed. Null in cluster mode (IAM authentication)."
  value       = try(local.instance.auth_string, null)
  sensitive   = true
}

output "auth_mode" {
  description = "ATRIUM_REDIS_AUTH for the app: gcp-iam in cluster mode (IAM authentication is the cluster's only AUTH), else password (the AUTH string in `url`)."
  value       = var.cluster_mode ? "gcp-iam" : "password"
}

output "tls_ca" {
  description = "ATRIUM_REDIS_TLS_CA for the app: the PEM CA certificates that sign the instance's or cluster's TLS certificates, which Node does not trust by default."
  value       = local.tls_ca
}

output "server_ca_certs" {
  description = "CA certificates to verify the instance's TLS certificate; null in cluster mode (gcloud redis clusters get-cluster-certificate-authority)."
  value       = try(local.instance.server_ca_certs, null)
}

output "discovery_endpoint" {
  description = "address:port of the cluster's discovery endpoint, the seed node clients learn the shards from; null without cluster mode."
  value       = var.cluster_mode ? "${local.discovery.address}:${local.discovery.port}" : null
}

output "url" {
  description = "REDIS_URL for Atrium: rediss:// to the instance with its AUTH string, or to the cluster's discovery endpoint (one seed, no database number)."
  value       = local.url
  sensitive   = true
}
