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
  description = "Read replicas on STANDARD_HA (document 000: 1). Default: 1."
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
