output "cluster_mode" {
  description = "True when the store is a Redis Cluster: the app needs ATRIUM_REDIS_CLUSTER=true with `url`."
  value       = var.cluster_mode
}

output "primary_endpoint" {
  description = "Primary endpoint address of the single-primary group (connect with rediss:// and the AUTH token); null in cluster mode."
  value       = one(aws_elasticache_replication_group.this[*].primary_endpoint_address)
}

output "configuration_endpoint" {
  description = "Configuration endpoint of the Redis Cluster, the seed node clients discover the shards from; null without cluster mode."
  value       = one(aws_elasticache_replication_group.cluster[*].configuration_endpoint_address)
}

output "endpoint" {
  description = "The address Atrium connects to: the configuration endpoint in cluster mode, the primary endpoint otherwise."
  value       = local.endpoint
}

output "port" {
  description = "Redis port."
  value       = local.port
}

output "url" {
  description = "REDIS_URL for Atrium: rediss:// with the AUTH token (URL-encoded), no database number; one seed node in cluster mode."
  value       = "rediss://:${urlencode(var.auth_token)}@${local.endpoint}:${local.port}"
  sensitive   = true
}
