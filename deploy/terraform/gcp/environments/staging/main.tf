locals {
  name = "atrium-${var.environment}"
  # Memorystore for Redis Cluster authenticates with IAM only: the processes that open Redis (API, worker and
  # `atrium licenses reconcile` in their pods) need the connect role there (ADR 0106).
  redis_connect_roles = var.redis.cluster_mode ? ["roles/redis.dbConnectionUser"] : []
}

module "network" {
  source          = "../../modules/network"
  project_id      = var.project_id
  name            = local.name
  region          = var.region
  gke_subnet_cidr = var.cidrs.gke_subnet
  pods_cidr       = var.cidrs.pods
  services_cidr   = var.cidrs.services
  data_cidr       = var.cidrs.data
}

module "gke" {
  source               = "../../modules/gke"
  project_id           = var.project_id
  name                 = local.name
  location             = var.gke_location
  network_id           = module.network.network_id
  subnet_name          = module.network.gke_subnet_name
  pods_range_name      = module.network.pods_range_name
  services_range_name  = module.network.services_range_name
  binary_authorization = var.binary_authorization
  node_pools = merge(
    {
      general = merge(var.general_pool, { labels = {}, taints = [] })
    },
    var.stateful_pool == null ? {} : {
      stateful = merge(var.stateful_pool, {
        spot   = false
        labels = {}
        taints = [{ key = "workload", value = "stateful", effect = "NO_SCHEDULE" }]
      })
    }
  )
}

module "iam" {
  source      = "../../modules/iam"
  project_id  = var.project_id
  environment = var.environment
  workloads = {
    atrium-api     = { kubernetes_service_account = "atrium-api", project_roles = concat(["roles/cloudsql.client"], local.redis_connect_roles) }
    atrium-worker  = { kubernetes_service_account = "atrium-worker", project_roles = concat(["roles/cloudsql.client"], local.redis_connect_roles) }
    atrium-migrate = { kubernetes_service_account = "atrium-migrate", project_roles = ["roles/cloudsql.client"] }
    # Document 000 grants NATS roles/storage.admin on the project; it gets object admin on its backup bucket only.
    atrium-nats = { kubernetes_service_account = "atrium-nats", project_roles = [] }
  }
}

module "postgres" {
  source                 = "../../modules/cloudsql-postgres"
  project_id             = var.project_id
  name                   = "${local.name}-pg"
  region                 = var.region
  network_id             = module.network.network_id
  tier                   = var.sql.tier
  availability_type      = var.sql.availability_type
  disk_size_gb           = var.sql.disk_size_gb
  point_in_time_recovery = var.sql.point_in_time_recovery
  backup_retention_count = var.sql.backup_retention_count
  depends_on             = [module.network]
}

module "redis" {
  source         = "../../modules/memorystore-redis"
  project_id     = var.project_id
  name           = "${local.name}-redis"
  region         = var.region
  network_id     = module.network.network_id
  tier           = var.redis.tier
  memory_size_gb = var.redis.memory_size_gb
  read_replicas  = var.redis.read_replicas
  rdb_snapshots  = var.redis.rdb_snapshots
  # Redis Cluster (ADR 0106), off unless the environment's tfvars turn it on.
  cluster_mode        = var.redis.cluster_mode
  shard_count         = var.redis.shard_count
  replicas_per_shard  = var.redis.replicas_per_shard
  cluster_node_type   = var.redis.cluster_node_type
  psc_subnet_cidr     = var.cidrs.redis_psc
  deletion_protection = var.redis.cluster_deletion_protection
  depends_on          = [module.network]
}

module "kms_signing" {
  source         = "../../modules/kms-signing"
  project_id     = var.project_id
  location       = var.region
  key_ring_name  = "${local.name}-licensing"
  signer_members = [module.iam.members["atrium-api"], module.iam.members["atrium-worker"]]
}

module "secrets" {
  source     = "../../modules/secrets"
  project_id = var.project_id
  secrets = {
    atrium-database-app-url   = "PostgreSQL URL for the runtime role atrium_app (DATABASE_APP_URL)"
    atrium-database-owner-url = "PostgreSQL URL for the owner role, used by atrium migrate (DATABASE_URL)"
    atrium-redis-url          = "rediss:// URL with the AUTH string (REDIS_URL)"
    atrium-redis-cluster      = "true when atrium-redis-url names a Redis Cluster (ATRIUM_REDIS_CLUSTER); written with it by Terraform"
    atrium-redis-auth         = "How the server authenticates to Redis (ATRIUM_REDIS_AUTH): gcp-iam for the cluster's IAM authentication, else password; written with atrium-redis-url by Terraform"
    atrium-redis-tls-ca       = "PEM CA certificates of Memorystore's TLS (ATRIUM_REDIS_TLS_CA); written with atrium-redis-url by Terraform"
    atrium-smtp-url           = "SMTP submission URL (SMTP_URL)"
    atrium-secret-key         = "Server secret (ATRIUM_SECRET_KEY): 32+ random characters, e.g. openssl rand -base64 48"
  }
  # The URL, the flag, how to authenticate and which CA to trust describe the same store and change in the same
  # apply; External Secrets copies them all into atrium-runtime, so a pod never sees a cluster URL without
  # ATRIUM_REDIS_CLUSTER=true and ATRIUM_REDIS_AUTH=gcp-iam, or the reverse (ADR 0106).
  values = {
    atrium-redis-url     = module.redis.url
    atrium-redis-cluster = tostring(module.redis.cluster_mode)
    atrium-redis-auth    = module.redis.auth_mode
    atrium-redis-tls-ca  = module.redis.tls_ca
  }
  accessor_members = [module.iam.members["atrium-api"], module.iam.members["atrium-migrate"]]
}

module "cloud_armor" {
  source     = "../../modules/cloud-armor"
  project_id = var.project_id
}

# JetStream backups (document 000: "Workload Identity for GCS backups").
resource "google_storage_bucket" "nats_backups" {
  name                        = "${var.project_id}-atrium-nats-backups"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "nats_backups" {
  bucket = google_storage_bucket.nats_backups.name
  role   = "roles/storage.objectAdmin"
  member = module.iam.members["atrium-nats"]
}

resource "google_compute_global_address" "ingress" {
  name = "atrium-ingress"
}
