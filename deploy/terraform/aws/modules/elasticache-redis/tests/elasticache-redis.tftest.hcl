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
    condition     = aws_elasticache_replication_group.this[0].transit_encryption_enabled && aws_elasticache_replication_group.this[0].at_rest_encryption_enabled
    error_message = "TLS in transit and encryption at rest are required (document 000)."
  }
  assert {
    condition     = aws_elasticache_replication_group.this[0].automatic_failover_enabled && aws_elasticache_replication_group.this[0].num_cache_clusters == 2
    error_message = "One replica with automatic failover (STANDARD_HA parity)."
  }
  assert {
    condition     = one([for p in aws_elasticache_parameter_group.this[0].parameter : p.value if p.name == "maxmemory-policy"]) == "volatile-lru"
    error_message = "ADR 0105: maxmemory-policy volatile-lru, so that Redis never evicts a lease set."
  }
}

# The default is the single primary, as before cluster mode existed (ADR 0106): nothing of the cluster is planned.
run "single_primary_by_default" {
  # apply against the mocked provider: the endpoints are computed, so only an apply gives them values.
  command = apply

  override_resource {
    target = aws_elasticache_replication_group.this[0]
    values = { primary_endpoint_address = "master.atrium-test.abc123.use1.cache.amazonaws.com" }
  }

  assert {
    condition     = length(aws_elasticache_replication_group.this) == 1 && length(aws_elasticache_replication_group.cluster) == 0 && length(aws_elasticache_parameter_group.cluster) == 0
    error_message = "Without cluster_mode only the single-primary replication group may be planned."
  }
  assert {
    condition     = aws_elasticache_replication_group.this[0].replication_group_id == "atrium-test" && aws_elasticache_parameter_group.this[0].name == "atrium-test-redis7"
    error_message = "The single-primary objects keep their names, so existing environments plan no change."
  }
  assert {
    condition     = !anytrue([for p in aws_elasticache_parameter_group.this[0].parameter : p.name == "cluster-enabled"])
    error_message = "The single primary must not get cluster-enabled."
  }
  assert {
    condition     = output.cluster_mode == false && output.configuration_endpoint == null
    error_message = "Outputs must say cluster mode is off."
  }
  assert {
    condition     = nonsensitive(output.url) == "rediss://:a-test-token-that-is-long-enough@master.atrium-test.abc123.use1.cache.amazonaws.com:6379"
    error_message = "REDIS_URL must be rediss:// with the AUTH token to the primary endpoint, exactly as before."
  }
}

run "cluster_mode_shards_with_failover_tls_auth_and_volatile_lru" {
  # apply against the mocked provider: the endpoints are computed, so only an apply gives them values.
  command = apply

  variables {
    cluster_mode       = true
    shards             = 3
    replicas_per_shard = 1
  }

  override_resource {
    target = aws_elasticache_replication_group.cluster[0]
    values = { configuration_endpoint_address = "clustercfg.atrium-test-cluster.abc123.use1.cache.amazonaws.com" }
  }

  assert {
    condition     = length(aws_elasticache_replication_group.this) == 0 && length(aws_elasticache_parameter_group.this) == 0
    error_message = "Cluster mode replaces the single primary."
  }
  assert {
    condition     = aws_elasticache_replication_group.cluster[0].cluster_mode == "enabled" && aws_elasticache_replication_group.cluster[0].num_node_groups == 3 && aws_elasticache_replication_group.cluster[0].replicas_per_node_group == 1
    error_message = "Cluster mode enabled with the requested shards and replicas per shard."
  }
  assert {
    condition     = aws_elasticache_replication_group.cluster[0].automatic_failover_enabled && aws_elasticache_replication_group.cluster[0].multi_az_enabled
    error_message = "Every shard must fail over automatically across zones."
  }
  assert {
    condition     = aws_elasticache_replication_group.cluster[0].transit_encryption_enabled && aws_elasticache_replication_group.cluster[0].at_rest_encryption_enabled && aws_elasticache_replication_group.cluster[0].kms_key_id == var.kms_key_arn
    error_message = "TLS in transit and KMS encryption at rest, as for the single primary (document 000)."
  }
  assert {
    condition     = nonsensitive(aws_elasticache_replication_group.cluster[0].auth_token) == var.auth_token
    error_message = "The cluster requires the AUTH token."
  }
  assert {
    condition     = aws_elasticache_parameter_group.cluster[0].family == "redis7" && aws_elasticache_replication_group.cluster[0].parameter_group_name == aws_elasticache_parameter_group.cluster[0].name
    error_message = "The cluster uses its own redis7 parameter group."
  }
  assert {
    condition     = one([for p in aws_elasticache_parameter_group.cluster[0].parameter : p.value if p.name == "cluster-enabled"]) == "yes"
    error_message = "The cluster's parameter group must set cluster-enabled yes."
  }
  assert {
    condition     = one([for p in aws_elasticache_parameter_group.cluster[0].parameter : p.value if p.name == "maxmemory-policy"]) == "volatile-lru"
    error_message = "ADR 0105: maxmemory-policy volatile-lru on the cluster too."
  }
  assert {
    condition     = aws_elasticache_replication_group.cluster[0].replication_group_id != var.name
    error_message = "The cluster needs its own id, so that it can be built while the single primary still exists."
  }
  assert {
    condition     = output.cluster_mode && output.endpoint == output.configuration_endpoint && output.primary_endpoint == null
    error_message = "Outputs must give the configuration endpoint and say cluster mode is on."
  }
  assert {
    condition     = nonsensitive(output.url) == "rediss://:a-test-token-that-is-long-enough@clustercfg.atrium-test-cluster.abc123.use1.cache.amazonaws.com:6379"
    error_message = "REDIS_URL in cluster mode: one rediss:// seed (the configuration endpoint) with the token and no database number."
  }
}

run "cluster_mode_refuses_shards_without_replicas" {
  command = plan

  variables {
    cluster_mode       = true
    replicas_per_shard = 0
  }

  expect_failures = [var.replicas_per_shard]
}

run "auth_token_is_url_encoded" {
  # apply against the mocked provider: the endpoints are computed, so only an apply gives them values.
  command = apply

  variables {
    auth_token = "token#with%special+chars"
  }

  override_resource {
    target = aws_elasticache_replication_group.this[0]
    values = { primary_endpoint_address = "master.example" }
  }

  assert {
    condition     = nonsensitive(output.url) == "rediss://:token%23with%25special%2Bchars@master.example:6379"
    error_message = "The AUTH token must be percent-encoded: Atrium decodes the URL's password (decodeURIComponent)."
  }
}
