# Document 000's Memorystore: Redis 7.0, AUTH on, TLS (SERVER_AUTHENTICATION), private service access only,
# volatile-lru (not the document's allkeys-lru: ADR 0105) and expiry notifications, Sunday 03:00 maintenance,
# RDB snapshots every 12 h where persistence is on.
# AUTH and TLS are set at creation: turning them on later recreates the instance.
resource "google_redis_instance" "this" {
  project        = var.project_id
  name           = var.name
  region         = var.region
  tier           = var.tier
  memory_size_gb = var.memory_size_gb
  redis_version  = "REDIS_7_0"

  authorized_network      = var.network_id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  replica_count      = var.tier == "STANDARD_HA" ? var.read_replicas : null
  read_replicas_mode = var.tier == "STANDARD_HA" && var.read_replicas > 0 ? "READ_REPLICAS_ENABLED" : "READ_REPLICAS_DISABLED"

  redis_configs = {
    maxmemory-policy       = "volatile-lru" # evicts only keys with a TTL; never a lease set (ADR 0105)
    notify-keyspace-events = "Ex"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
      }
    }
  }

  persistence_config {
    persistence_mode    = var.rdb_snapshots ? "RDB" : "DISABLED"
    rdb_snapshot_period = var.rdb_snapshots ? "TWELVE_HOURS" : null
  }
}
