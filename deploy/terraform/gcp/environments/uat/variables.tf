variable "environment" {
  type        = string
  description = "Environment name: dev, staging, uat or production (document 004's ladder)."
  validation {
    condition     = contains(["dev", "staging", "uat", "production"], var.environment)
    error_message = "GCP environments are dev, staging, uat and production."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project of this environment (one project per environment, document 003)."
}

variable "region" {
  type        = string
  description = "Region (document 000: us-central1)."
}

variable "gke_location" {
  type        = string
  description = "Zone for a zonal cluster (staging, dev) or the region for a regional one (production, uat)."
}

variable "cidrs" {
  type = object({
    gke_subnet = string
    pods       = string
    services   = string
    data       = string
    redis_psc  = optional(string)
  })
  description = "Document 000's ranges: 10.x.0.0/20 nodes, 10.x+1.0.0/16 pods, 10.x+2.0.0/20 services, 10.x+3.0.0/20 data; redis_psc 10.x+4.0.0/28, the Private Service Connect subnet that only Redis cluster mode creates."
}

variable "general_pool" {
  type = object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = number
    spot         = bool
  })
  description = "The general node pool (document 000: n2-standard-4, 100 GB SSD)."
}

variable "stateful_pool" {
  type = object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = number
  })
  description = "Optional tainted pool for NATS (document 004's dedicated pools); null for none."
  default     = null
}

variable "binary_authorization" {
  type        = bool
  description = "Enforce Binary Authorization (document 001: production)."
}

variable "sql" {
  type = object({
    tier                   = string
    availability_type      = string
    disk_size_gb           = number
    point_in_time_recovery = bool
    backup_retention_count = number
  })
  description = "Cloud SQL sizing and protection (document 000)."
}

variable "redis" {
  type = object({
    tier           = string
    memory_size_gb = number
    read_replicas  = number
    rdb_snapshots  = bool
    # Memorystore for Redis Cluster instead of the instance (ADR 0106, docs/runbooks/redis-cluster.md).
    cluster_mode       = optional(bool, false)
    shard_count        = optional(number, 3)
    replicas_per_shard = optional(number, 1)
    cluster_node_type  = optional(string, "REDIS_STANDARD_SMALL")
    # Set false and apply before turning cluster_mode off again: the cluster refuses deletion otherwise.
    cluster_deletion_protection = optional(bool, true)
  })
  description = "Memorystore sizing (document 000); with cluster_mode = true, a Redis Cluster of shard_count shards of cluster_node_type, replicas_per_shard each (tier, memory_size_gb and read_replicas then unused; rdb_snapshots still applies)."
}
