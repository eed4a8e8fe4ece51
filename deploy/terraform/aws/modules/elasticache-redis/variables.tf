variable "name" {
  type        = string
  description = "Replication group id, e.g. atrium-production."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cache."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private data subnets."
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "Application subnet ranges allowed to connect on 6379."
}

variable "node_type" {
  type        = string
  description = "Node type (cache.m7g.large ≈ 6.4 GiB for staging's 5 GB, cache.r7g.large ≈ 13 GiB for production's 10 GB)."
}

variable "replicas" {
  type        = number
  description = "Read replicas of the single primary (without cluster mode); with at least one, failover is automatic and Multi-AZ (Default: 1, document 000 production)."
  default     = 1
}

variable "cluster_mode" {
  type        = bool
  description = "Redis Cluster (cluster mode enabled) instead of one primary; the app then needs ATRIUM_REDIS_CLUSTER=true. Switching replaces the store with an empty one (run `atrium licenses reconcile`, docs/runbooks/redis-cluster.md). Default: false."
  default     = false
}

variable "shards" {
  type        = number
  description = "Node groups (shards) in cluster mode, each with `node_type` memory. Ignored without cluster mode. Default: 3."
  default     = 3
  validation {
    condition     = var.shards >= 1 && var.shards <= 500 && floor(var.shards) == var.shards
    error_message = "shards is a whole number from 1 to 500."
  }
}

variable "replicas_per_shard" {
  type        = number
  description = "Replicas of each shard in cluster mode; at least one, because cluster mode always runs with automatic failover and Multi-AZ. Ignored without cluster mode. Default: 1."
  default     = 1
  validation {
    condition     = var.replicas_per_shard >= 1 && var.replicas_per_shard <= 5 && floor(var.replicas_per_shard) == var.replicas_per_shard
    error_message = "replicas_per_shard is 1 to 5: a shard without a replica cannot fail over."
  }
}

variable "auth_token" {
  type        = string
  description = "Redis AUTH token (16–128 printable characters); the environment generates it."
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "Symmetric KMS key for encryption at rest."
}

variable "snapshot_retention_days" {
  type        = number
  description = "Daily snapshots kept (Default: 1; 0 disables them, fine for a pure cache in staging)."
  default     = 1
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Default: none."
  default     = {}
}
