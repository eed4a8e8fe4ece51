# Document 000, production; the tainted stateful pool follows document 004.
environment  = "production"
project_id   = "atrium-production"
region       = "us-central1"
gke_location = "us-central1"
cidrs = {
  gke_subnet = "10.20.0.0/20"
  pods       = "10.21.0.0/16"
  services   = "10.22.0.0/20"
  data       = "10.23.0.0/20"
  # Private Service Connect endpoints of Redis cluster mode; reserved here, created only when cluster_mode is on.
  redis_psc = "10.24.0.0/28"
}
general_pool = {
  machine_type = "n2-standard-4"
  min_nodes    = 3
  max_nodes    = 10
  disk_size_gb = 100
  spot         = false
}
stateful_pool = {
  machine_type = "n2-standard-4"
  min_nodes    = 3
  max_nodes    = 3
  disk_size_gb = 100
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
