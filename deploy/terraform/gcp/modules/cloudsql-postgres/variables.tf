variable "project_id" {
  type        = string
  description = "GCP project of the instance."
}

variable "name" {
  type        = string
  description = "Instance name, e.g. atrium-production-pg."
}

variable "region" {
  type        = string
  description = "Region (Default: us-central1)."
  default     = "us-central1"
}

variable "database_version" {
  type        = string
  description = "Engine version (Default: POSTGRES_15, document 000)."
  default     = "POSTGRES_15"
}

variable "tier" {
  type        = string
  description = "Machine tier (document 000: db-custom-2-7680 staging, db-custom-4-15360 production)."
}

variable "availability_type" {
  type        = string
  description = "ZONAL or REGIONAL (HA with automatic failover)."
  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type is ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  type        = number
  description = "Initial SSD size in GB; auto-resize is on (document 000: 50 staging, 200 production)."
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Keep transaction logs for point-in-time recovery (document 000: production)."
}

variable "backup_retention_count" {
  type        = number
  description = "Daily backups kept (document 000: 7 staging, 14 production)."
}

variable "backup_location" {
  type        = string
  description = "Multi-region for backups (Default: us, document 000 'stored in multi-region')."
  default     = "us"
}

variable "network_id" {
  type        = string
  description = "VPC network id; the instance takes a private IP from its Private Service Access range."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse deletion (Default: true)."
  default     = true
}

variable "database_name" {
  type        = string
  description = "Database created for Atrium (Default: atrium)."
  default     = "atrium"
}

variable "database_flags" {
  type        = map(string)
  description = "PostgreSQL flags (Default: document 000's values; units are PostgreSQL's: 8 kB pages for shared_buffers and effective_cache_size, kB for the *_mem flags)."
  default = {
    max_connections            = "200"
    shared_buffers             = "262144"
    work_mem                   = "16384"
    maintenance_work_mem       = "65536"
    effective_cache_size       = "524288"
    log_min_duration_statement = "1000"
  }
}
