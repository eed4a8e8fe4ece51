variable "name" {
  type        = string
  description = "Instance identifier, e.g. atrium-production."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the instance."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private data subnets (no internet route)."
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "Application subnet ranges allowed to connect on 5432."
}

variable "engine_major_version" {
  type        = string
  description = "PostgreSQL major version (Default: 15, document 000)."
  default     = "15"
}

variable "instance_class" {
  type        = string
  description = "Instance class (db.m7g.xlarge = 4 vCPU 16 GiB, closest to db-custom-4-15360)."
}

variable "storage_gb" {
  type        = number
  description = "Initial gp3 storage in GB."
}

variable "max_storage_gb" {
  type        = number
  description = "Storage autoscaling ceiling in GB."
}

variable "multi_az" {
  type        = bool
  description = "Standby in a second AZ with automatic failover (Default: true, document 003)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Automated backup and PITR retention in days (document 003: 7–14 non-prod, 30+ prod)."
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "RDS keeps automated backups for 1 to 35 days; 0 would disable PITR."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse deletion until turned off (Default: true)."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Symmetric KMS key for storage, Performance Insights and the master password secret."
}

variable "database_name" {
  type        = string
  description = "Initial database (Default: atrium)."
  default     = "atrium"
}

variable "master_username" {
  type        = string
  description = "Owner role that runs `atrium migrate` (Default: atrium_owner); the runtime role atrium_app is created by migrations."
  default     = "atrium_owner"
}

variable "parameters" {
  type        = map(string)
  description = "PostgreSQL parameters (Default: document 000's flags with TLS forced)."
  default = {
    max_connections            = "200"
    shared_buffers             = "262144"
    work_mem                   = "16384"
    maintenance_work_mem       = "65536"
    effective_cache_size       = "524288"
    log_min_duration_statement = "1000"
    "rds.force_ssl"            = "1"
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Default: none."
  default     = {}
}
