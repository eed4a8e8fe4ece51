# Plans the whole staging environment against a mocked AWS provider: no credentials, no network.
mock_provider "aws" {}

variables {
  redis_auth_token = "a-test-token-that-is-long-enough"
}

run "plans_the_staging_environment" {
  command = plan

  assert {
    condition     = output.cluster_name == "atrium-staging"
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
