environment             = "staging"
region                  = "us-east-1"
account_id              = "111111111111"
azs                     = ["us-east-1a", "us-east-1b", "us-east-1c"]
vpc_cidr                = "10.50.0.0/16"
single_nat_gateway      = true
eks_public_access_cidrs = ["10.0.0.0/8"]
baseline_min_size       = 1
baseline_max_size       = 3

# Document 000 staging: 2 vCPU / 7.5 GB, 50 GB, zonal, 7-day backups.
rds_instance_class        = "db.m7g.large"
rds_storage_gb            = 50
rds_max_storage_gb        = 100
rds_multi_az              = false
rds_backup_retention_days = 7

# Document 000 staging: 5 GB, single instance, no persistence.
redis_node_type               = "cache.m7g.large"
redis_replicas                = 0
redis_snapshot_retention_days = 0
# Redis Cluster (ADR 0106): off. Turning it on replaces the store; follow docs/runbooks/redis-cluster.md.
redis_cluster_mode = false
