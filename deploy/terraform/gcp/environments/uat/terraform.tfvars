# Document 004: UAT is production-equivalent; sizes as production (document 000), own ranges 10.40–10.43.
environment  = "uat"
project_id   = "atrium-uat"
region       = "us-central1"
gke_location = "us-central1"
cidrs = {
  gke_subnet = "10.40.0.0/20"
  pods       = "10.41.0.0/16"
  services   = "10.42.0.0/20"
  data       = "10.43.0.0/20"
  # Private Service Connect endpoints of Redis cluster mode; reserved here, created only when cluster_mode is on.
  redis_psc = "10.44.0.0/28"
}
general_pool = {
  machine_type = "n2-standard-4"
  min_nodes    = 3
  max_nodes    = 10
  disk_size_gb = 100
  spot         = false
}
binary_authorization = true
sql = {
  tier                   = "db-custom-4-15360"
  availability_type      = "REGIONAL"
  disk_size_gb           = 200
  point_in_time_recovery = true
  backup_retention_count = 14
}
redis = {
  tier           = "STANDARD_HA"
  memory_size_gb = 10
  read_replicas  = 1
  rdb_snapshots  = true
  # Redis Cluster (ADR 0106): off. Turning it on replaces the store; follow docs/runbooks/redis-cluster.md.
  cluster_mode = false
}
