variable "environment" {
  type        = string
  description = "Environment name (staging or production)."
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "AWS environments are staging and production."
  }
}

variable "region" {
  type        = string
  description = "AWS region (Default: us-east-1)."
  default     = "us-east-1"
}

variable "account_id" {
  type        = string
  description = "AWS account of this environment (document 003: separate non-prod and prod accounts)."
}

variable "azs" {
  type        = list(string)
  description = "Three availability zones of the region."
}

variable "vpc_cidr" {
  type        = string
  description = "The environment's /16."
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway instead of one per zone."
}

variable "eks_public_access_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach the EKS public endpoint; empty keeps it private."
}

variable "baseline_min_size" {
  type        = number
  description = "Minimum on-demand baseline nodes."
}

variable "baseline_max_size" {
  type        = number
  description = "Maximum on-demand baseline nodes."
}

variable "rds_instance_class" {
  type        = string
  description = "RDS instance class."
}

variable "rds_storage_gb" {
  type        = number
  description = "Initial RDS storage in GB."
}

variable "rds_max_storage_gb" {
  type        = number
  description = "RDS storage autoscaling ceiling in GB."
}

variable "rds_multi_az" {
  type        = bool
  description = "Multi-AZ standby."
}

variable "rds_backup_retention_days" {
  type        = number
  description = "Backup/PITR retention in days."
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type."
}

variable "redis_replicas" {
  type        = number
  description = "ElastiCache replicas."
}

variable "redis_cluster_mode" {
  type        = bool
  description = "ElastiCache with cluster mode enabled (Redis Cluster, ADR 0106) instead of one primary; switching builds a new, empty store (docs/runbooks/redis-cluster.md). Default: false."
  default     = false
}

variable "redis_shards" {
  type        = number
  description = "Shards in cluster mode, each a `redis_node_type` primary. Default: 3."
  default     = 3
}

variable "redis_replicas_per_shard" {
  type        = number
  description = "Replicas of each shard in cluster mode (at least 1: automatic failover and Multi-AZ). Default: 1."
  default     = 1
}

variable "redis_snapshot_retention_days" {
  type        = number
  description = "Daily Redis snapshots kept."
}

variable "redis_auth_token" {
  type        = string
  description = "Redis AUTH token; pass it from the CI secret store as TF_VAR_redis_auth_token, never commit it."
  sensitive   = true
}
