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
  description = "Read replicas; with at least one, failover is automatic and Multi-AZ (Default: 1, document 000 production)."
  default     = 1
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
