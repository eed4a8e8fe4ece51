mock_provider "aws" {}

variables {
  name          = "atrium-test"
  vpc_id        = "vpc-12345678"
  subnet_ids    = ["subnet-1", "subnet-2"]
  allowed_cidrs = ["10.60.64.0/18"]
  node_type     = "cache.r7g.large"
  auth_token    = "a-test-token-that-is-long-enough"
  kms_key_arn   = "arn:aws:kms:us-east-1:123456789012:key/test"
}

run "auth_tls_and_failover" {
  command = plan

  assert {
    condition     = aws_elasticache_replication_group.this.transit_encryption_enabled && aws_elasticache_replication_group.this.at_rest_encryption_enabled
    error_message = "TLS in transit and encryption at rest are required (document 000)."
  }
  assert {
    condition     = aws_elasticache_replication_group.this.automatic_failover_enabled && aws_elasticache_replication_group.this.num_cache_clusters == 2
    error_message = "One replica with automatic failover (STANDARD_HA parity)."
  }
  assert {
    condition     = one([for p in aws_elasticache_parameter_group.this.parameter : p.value if p.name == "maxmemory-policy"]) == "volatile-lru"
    error_message = "ADR 0105: maxmemory-policy volatile-lru, so that Redis never evicts a lease set."
  }
}
