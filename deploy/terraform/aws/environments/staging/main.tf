locals {
  name = "atrium-${var.environment}"
  # Each Atrium service account gets its own role; the API and worker may sign with the root key and read secrets.
  service_accounts = ["atrium-api", "atrium-worker", "atrium-migrate", "atrium-nats"]
}

# Symmetric key for Secrets, RDS, ElastiCache and Kubernetes Secret envelope encryption.
resource "aws_kms_key" "data" {
  description             = "${local.name} data encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

module "vpc" {
  source             = "../../modules/vpc"
  name               = local.name
  region             = var.region
  cidr               = var.vpc_cidr
  azs                = var.azs
  cluster_name       = local.name
  single_nat_gateway = var.single_nat_gateway
}

module "secrets" {
  source      = "../../modules/secrets"
  prefix      = "atrium"
  kms_key_arn = aws_kms_key.data.arn
  secrets = {
    "database-app-url"   = "PostgreSQL URL for the runtime role atrium_app (DATABASE_APP_URL)"
    "database-owner-url" = "PostgreSQL URL for the owner role, used by atrium migrate (DATABASE_URL)"
    "redis-url"          = "rediss:// URL with the AUTH token (REDIS_URL)"
    "redis-cluster"      = "true when redis-url names a Redis Cluster (ATRIUM_REDIS_CLUSTER); written with it by Terraform"
    "smtp-url"           = "SMTP submission URL (SMTP_URL)"
    "secret-key"         = "Server secret (ATRIUM_SECRET_KEY): 32+ random characters, e.g. openssl rand -base64 48"
  }
  # The URL and the flag describe the same store and change in the same apply; External Secrets copies both into
  # atrium-runtime, so a pod never sees a cluster URL without ATRIUM_REDIS_CLUSTER=true or the reverse (ADR 0106).
  values = {
    "redis-url"     = module.redis.url
    "redis-cluster" = tostring(module.redis.cluster_mode)
  }
}

module "eks" {
  source              = "../../modules/eks"
  name                = local.name
  subnet_ids          = module.vpc.app_subnet_ids
  public_access_cidrs = var.eks_public_access_cidrs
  secrets_kms_key_arn = aws_kms_key.data.arn
  baseline_min_size   = var.baseline_min_size
  baseline_max_size   = var.baseline_max_size
  service_account_roles = {
    for sa in local.service_accounts : sa => {
      namespace       = "atrium"
      service_account = sa
      policy_arns     = contains(["atrium-api", "atrium-worker", "atrium-migrate"], sa) ? [module.secrets.read_policy_arn] : []
    }
  }
}

module "karpenter" {
  source             = "../../modules/karpenter"
  cluster_name       = module.eks.cluster_name
  region             = var.region
  account_id         = var.account_id
  oidc_provider_arn  = module.eks.oidc_provider_arn
  oidc_provider_host = module.eks.oidc_provider_host
}

module "kms_signing" {
  source           = "../../modules/kms-signing"
  name             = local.name
  account_id       = var.account_id
  signer_role_arns = [module.eks.service_account_role_arns["atrium-api"], module.eks.service_account_role_arns["atrium-worker"]]
}

module "postgres" {
  source                = "../../modules/rds-postgres"
  name                  = local.name
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.data_subnet_ids
  allowed_cidrs         = module.vpc.app_subnet_cidrs
  instance_class        = var.rds_instance_class
  storage_gb            = var.rds_storage_gb
  max_storage_gb        = var.rds_max_storage_gb
  multi_az              = var.rds_multi_az
  backup_retention_days = var.rds_backup_retention_days
  kms_key_arn           = aws_kms_key.data.arn
}

module "redis" {
  source                  = "../../modules/elasticache-redis"
  name                    = local.name
  vpc_id                  = module.vpc.vpc_id
  subnet_ids              = module.vpc.data_subnet_ids
  allowed_cidrs           = module.vpc.app_subnet_cidrs
  node_type               = var.redis_node_type
  replicas                = var.redis_replicas
  cluster_mode            = var.redis_cluster_mode
  shards                  = var.redis_shards
  replicas_per_shard      = var.redis_replicas_per_shard
  snapshot_retention_days = var.redis_snapshot_retention_days
  auth_token              = var.redis_auth_token
  kms_key_arn             = aws_kms_key.data.arn
}

module "waf" {
  source = "../../modules/waf"
  name   = local.name
}
