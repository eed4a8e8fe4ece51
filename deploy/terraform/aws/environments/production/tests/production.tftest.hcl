# Plans the whole production environment against a mocked AWS provider: no credentials, no network.
mock_provider "aws" {}

variables {
  redis_auth_token = "a-test-token-that-is-long-enough"
}

run "plans_the_production_environment" {
  command = plan

  assert {
    condition     = output.cluster_name == "atrium-production"
    error_message = "The cluster name must match the overlay's karpenter.sh/discovery tag."
  }
  assert {
    condition     = toset(keys(output.service_account_role_arns)) == toset(["atrium-api", "atrium-worker", "atrium-migrate", "atrium-nats"])
    error_message = "Every Atrium service account needs its own IRSA role."
  }
  assert {
    condition     = module.vpc.vpc_cidr == var.vpc_cidr
    error_message = "The VPC must use the environment's range."
  }
}

run "production_keeps_30_days_of_pitr_and_multi_az" {
  command = plan

  assert {
    condition     = var.rds_multi_az && var.rds_backup_retention_days >= 30
    error_message = "Document 003: Multi-AZ and 30+ days of PITR in production."
  }
  assert {
    condition     = var.redis_replicas >= 1
    error_message = "Production Redis needs a replica for automatic failover."
  }
}

# Redis stays a single primary unless the environment opts in (ADR 0106); the secrets carry what the app needs.
run "redis_single_primary_as_shipped" {
  command = plan

  override_resource {
    target          = module.redis.aws_elasticache_replication_group.this[0]
    override_during = plan # the endpoint is computed; without this it stays unknown in a plan
    values          = { primary_endpoint_address = "master.atrium-production.abc123.use1.cache.amazonaws.com" }
  }

  assert {
    condition     = var.redis_cluster_mode == false && output.redis_cluster_mode == false
    error_message = "The shipped production environment keeps Redis a single primary (ADR 0106)."
  }
  assert {
    condition     = output.redis_endpoint == "master.atrium-production.abc123.use1.cache.amazonaws.com:6379"
    error_message = "Atrium connects to the primary endpoint."
  }
  assert {
    condition     = nonsensitive(module.redis.url) == "rediss://:${var.redis_auth_token}@master.atrium-production.abc123.use1.cache.amazonaws.com:6379"
    error_message = "REDIS_URL is the one it was before cluster mode existed."
  }
  assert {
    condition     = contains(keys(module.secrets.secret_arns), "redis-url") && contains(keys(module.secrets.secret_arns), "redis-cluster")
    error_message = "Secrets Manager must hold redis-url and redis-cluster for External Secrets (REDIS_URL, ATRIUM_REDIS_CLUSTER)."
  }
}

run "redis_cluster_mode_plans" {
  command = plan

  variables {
    redis_cluster_mode       = true
    redis_shards             = 3
    redis_replicas_per_shard = 1
  }

  override_resource {
    target          = module.redis.aws_elasticache_replication_group.cluster[0]
    override_during = plan
    values          = { configuration_endpoint_address = "clustercfg.atrium-production-cluster.abc123.use1.cache.amazonaws.com" }
  }

  assert {
    condition     = output.redis_cluster_mode && module.redis.primary_endpoint == null
    error_message = "With redis_cluster_mode the environment gets a Redis Cluster instead of the single primary."
  }
  assert {
    condition     = output.redis_endpoint == "clustercfg.atrium-production-cluster.abc123.use1.cache.amazonaws.com:6379"
    error_message = "Atrium connects to the cluster's configuration endpoint."
  }
  assert {
    condition     = nonsensitive(module.redis.url) == "rediss://:${var.redis_auth_token}@clustercfg.atrium-production-cluster.abc123.use1.cache.amazonaws.com:6379"
    error_message = "REDIS_URL in cluster mode: one rediss:// seed with the AUTH token and no database number."
  }
}
