environment             = "production"
region                  = "us-east-1"
account_id              = "222222222222"
azs                     = ["us-east-1a", "us-east-1b", "us-east-1c"]
vpc_cidr                = "10.60.0.0/16"
single_nat_gateway      = false
eks_public_access_cidrs = []
baseline_min_size       = 3
baseline_max_size       = 10

# Document 000 production: 4 vCPU / 15 GB, 200 GB with auto-resize, HA; document 003: 30+ days PITR in prod.
rds_instance_class        = "db.m7g.xlarge"
rds_storage_gb            = 200
rds_max_storage_gb        = 1000
rds_multi_az              = true
rds_backup_retention_days = 30

# Document 000 production: 10 GB, primary + 1 replica, snapshots (RDB every 12 h on Memorystore; daily here).
redis_node_type               = "cache.r7g.large"
redis_replicas                = 1
redis_snapshot_retention_days = 7
# Redis Cluster (ADR 0106): off. Turning it on replaces the store; follow docs/runbooks/redis-cluster.md.
redis_cluster_mode = false
