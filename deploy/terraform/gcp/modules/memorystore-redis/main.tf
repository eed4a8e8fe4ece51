# Document 000's Memorystore: Redis 7.0, AUTH on, TLS (SERVER_AUTHENTICATION), private service access only,
# volatile-lru (not the document's allkeys-lru: ADR 0105) and expiry notifications, Sunday 03:00 maintenance,
# RDB snapshots every 12 h where persistence is on.
# AUTH and TLS are set at creation: turning them on later recreates the instance.
# `cluster_mode` replaces the instance with Memorystore for Redis Cluster (ADR 0106). They are two resources: a switch
# builds a new, empty store and removes the old one, because Atrium rebuilds its seats from the PostgreSQL lease
# journal (ADR 0100) and needs no data copied.
resource "google_redis_instance" "this" {
  count          = var.cluster_mode ? 0 : 1
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

# State written before cluster mode existed names the instance without an index.
moved {
  from = google_redis_instance.this
  to   = google_redis_instance.this[0]
}

# Memorystore for Redis Cluster is reached through Private Service Connect, not the Private Service Access range the
# instance and Cloud SQL use: a service connection policy lets Memorystore create its endpoints in a subnet of ours.
resource "google_compute_subnetwork" "psc" {
  count                    = var.cluster_mode ? 1 : 0
  project                  = var.project_id
  name                     = "${var.name}-psc"
  region                   = var.region
  network                  = var.network_id
  ip_cidr_range            = var.psc_subnet_cidr
  private_ip_google_access = true

  lifecycle {
    precondition {
      condition     = var.psc_subnet_cidr != null
      error_message = "cluster_mode needs psc_subnet_cidr: a free range (/29 or larger) for the cluster's Private Service Connect endpoints."
    }
  }
}

resource "google_network_connectivity_service_connection_policy" "redis" {
  count         = var.cluster_mode ? 1 : 0
  project       = var.project_id
  name          = "${var.name}-psc"
  location      = var.region
  service_class = "gcp-memorystore-redis"
  description   = "Private Service Connect endpoints of ${var.name} (Memorystore for Redis Cluster)"
  network       = var.network_id
  psc_config {
    subnetworks = [google_compute_subnetwork.psc[0].id]
  }
}

resource "google_redis_cluster" "this" {
  count         = var.cluster_mode ? 1 : 0
  project       = var.project_id
  name          = var.name
  region        = var.region
  shard_count   = var.shard_count
  replica_count = var.replicas_per_shard
  node_type     = var.cluster_node_type

  # Memorystore for Redis Cluster has no AUTH string: IAM authentication is its only AUTH (an access token of a
  # principal with roles/redis.dbConnectionUser as the password). Without it any client in the VPC could connect.
  authorization_mode      = "AUTH_MODE_IAM_AUTH"
  transit_encryption_mode = "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION"

  psc_configs {
    network = var.network_id
  }

  redis_configs = {
    maxmemory-policy       = "volatile-lru" # evicts only keys with a TTL; never a lease set (ADR 0105)
    notify-keyspace-events = "Ex"
  }

  # Replicas of a shard in other zones than its primary: a zone failure promotes them (document 000's HA).
  zone_distribution_config {
    mode = "MULTI_ZONE"
  }

  persistence_config {
    mode = var.rdb_snapshots ? "RDB" : "DISABLED"
    dynamic "rdb_config" {
      for_each = var.rdb_snapshots ? [1] : []
      content {
        rdb_snapshot_period = "TWELVE_HOURS"
      }
    }
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

  deletion_protection_enabled = var.deletion_protection

  depends_on = [google_network_connectivity_service_connection_policy.redis]
}

# The server's TLS certificates of both products come from a CA of their own that clients must trust
# (ATRIUM_REDIS_TLS_CA). google_redis_instance exports it (server_ca_certs); google_redis_cluster does not
# (hashicorp/terraform-provider-google#23145), so it is read from the Memorystore API with Terraform's own
# credentials: what `gcloud redis clusters get-cluster-certificate-authority` shows. Read after the cluster is created
# or changed, and again at every plan, so a CA Google rotates in reaches the secret at the next apply.
data "google_client_config" "current" {
  count = var.cluster_mode ? 1 : 0
}

data "http" "cluster_ca" {
  count = var.cluster_mode ? 1 : 0
  url   = "https://redis.googleapis.com/v1/projects/${var.project_id}/locations/${var.region}/clusters/${google_redis_cluster.this[0].name}/certificateAuthority"
  request_headers = {
    Authorization = "Bearer ${data.google_client_config.current[0].access_token}"
  }

  lifecycle {
    postcondition {
      condition     = self.status_code == 200
      error_message = "Reading the cluster's CA (clusters.getCertificateAuthority) from the Memorystore API failed."
    }
  }

  depends_on = [google_redis_cluster.this]
}

locals {
  instance  = one(google_redis_instance.this[*])
  discovery = var.cluster_mode ? google_redis_cluster.this[0].discovery_endpoints[0] : null
  # Instance: rediss:// with the AUTH string. Cluster: the discovery endpoint as the one seed node, no password
  # (IAM authentication, see above) and no database number (a cluster has only database 0).
  url = var.cluster_mode ? "rediss://${local.discovery.address}:${local.discovery.port}" : "rediss://:${urlencode(local.instance.auth_string)}@${local.instance.host}:${local.instance.port}"
  # Every CA certificate, PEM, one after the other: a CA being rotated comes with its successor.
  ca_certs = var.cluster_mode ? flatten([for chain in jsondecode(data.http.cluster_ca[0].response_body).managedServerCa.caCerts : chain.certificates]) : [for ca in local.instance.server_ca_certs : ca.cert]
  tls_ca   = join("\n", [for cert in local.ca_certs : trimspace(cert)])
}
