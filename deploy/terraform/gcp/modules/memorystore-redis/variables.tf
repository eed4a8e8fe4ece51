variable "project_id" {
  type        = string
  description = "GCP project of the instance."
}

variable "name" {
  type        = string
  description = "Instance name, e.g. atrium-production-redis."
}

variable "region" {
  type        = string
  description = "Region (Default: us-central1)."
  default     = "us-central1"
}

variable "tier" {
  type        = string
  description = "BASIC (staging) or STANDARD_HA (production, primary + replica with automatic failover)."
  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.tier)
    error_message = "tier is BASIC or STANDARD_HA."
  }
}

variable "memory_size_gb" {
  type        = number
  description = "Memory in GB (document 000: 5 staging, 10 production)."
}

variable "read_replicas" {
  type        = number
  description = "Read replicas on STANDARD_HA, without cluster mode (document 000: 1). Default: 1."
  default     = 1
}

variable "rdb_snapshots" {
  type        = bool
  description = "RDB snapshots every 12 hours (document 000: production only; staging is a cache)."
}

variable "network_id" {
  type        = string
  description = "VPC network id with a Private Service Access connection."
}

variable "cluster_mode" {
  type        = bool
  description = "Memorystore for Redis Cluster instead of one instance; the app then needs ATRIUM_REDIS_CLUSTER=true and IAM authentication (ADR 0106). Switching replaces the store with an empty one (docs/runbooks/redis-cluster.md). Default: false."
  default     = false
}

variable "shard_count" {
  type        = number
  description = "Shards in cluster mode, each a primary of `cluster_node_type`. Ignored without cluster mode. Default: 3."
  default     = 3
  validation {
    condition     = var.shard_count >= 1 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count is a whole number, at least 1."
  }
}

variable "replicas_per_shard" {
  type        = number
  description = "Replicas of each shard in cluster mode, in other zones than its primary (at least 1: automatic failover, and Memorystore's SLA needs it). Ignored without cluster mode. Default: 1."
  default     = 1
  validation {
    condition     = contains([1, 2], var.replicas_per_shard)
    error_message = "replicas_per_shard is 1 or 2: a shard without a replica cannot fail over."
  }
}

variable "cluster_node_type" {
  type        = string
  description = "Node type in cluster mode: REDIS_STANDARD_SMALL (5.2 GB writable per shard), REDIS_HIGHMEM_MEDIUM (10.4 GB), REDIS_HIGHMEM_XLARGE (46.4 GB); never the SLA-less shared-core nano. Default: REDIS_STANDARD_SMALL."
  default     = "REDIS_STANDARD_SMALL"
  validation {
    condition     = contains(["REDIS_STANDARD_SMALL", "REDIS_HIGHMEM_MEDIUM", "REDIS_HIGHMEM_XLARGE"], var.cluster_node_type)
    error_message = "cluster_node_type is REDIS_STANDARD_SMALL, REDIS_HIGHMEM_MEDIUM or REDIS_HIGHMEM_XLARGE."
  }
}

variable "psc_subnet_cidr" {
  type        = string
  description = "Free range (/29 or larger) for the cluster's Private Service Connect endpoints; required in cluster mode, unused otherwise. Default: null."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection of the cluster: set false and apply before switching cluster mode off or destroying. Default: true."
  default     = true
}
