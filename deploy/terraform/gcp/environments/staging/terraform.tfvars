# Document 000, staging.
environment  = "staging"
project_id   = "atrium-staging"
region       = "us-central1"
gke_location = "us-central1-a"
cidrs = {
  gke_subnet = "10.10.0.0/20"
  pods       = "10.11.0.0/16"
  services   = "10.12.0.0/20"
  data       = "10.13.0.0/20"
  # Private Service Connect endpoints of Redis cluster mode; reserved here, created only when cluster_mode is on.
  redis_psc = "10.14.0.0/28"
}
general_pool = {
  machine_type = "n2-standard-4"
  min_nodes    = 1
  max_nodes    = 3
  disk_size_gb = 100
  spot         = false
}
binary_authorization = false
sql = {
  tier                   = "db-custom-2-7680"
  availability_type      = "ZONAL"
  disk_size_gb           = 50
  point_in_time_recovery = false
  backup_retention_count = 7
}
redis = {
  tier           = "BASIC"
  memory_size_gb = 5
  read_replicas  = 0
  rdb_snapshots  = false
  # Redis Cluster (ADR 0106): off. Turning it on replaces the store; follow docs/runbooks/redis-cluster.md.
  cluster_mode = false
}
