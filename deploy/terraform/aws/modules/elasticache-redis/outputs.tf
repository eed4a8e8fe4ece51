output "primary_endpoint" {
  description = "Primary endpoint address (connect with rediss:// and the AUTH token)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}
