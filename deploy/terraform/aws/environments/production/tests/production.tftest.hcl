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
