variable "project_id" {
  type        = string
  description = "GCP project of the policy."
}

variable "name" {
  type        = string
  description = "Policy name; must equal the BackendConfig's securityPolicy.name (Default: atrium-edge)."
  default     = "atrium-edge"
}

variable "rate_limit_count" {
  type        = number
  description = "Requests per interval one IP may send before a ban (Default: 100, documents 001 and 004)."
  default     = 100
}

variable "rate_limit_interval_sec" {
  type        = number
  description = "Interval of the rate limit in seconds (Default: 60)."
  default     = 60
}

variable "ban_duration_sec" {
  type        = number
  description = "How long a banned IP stays banned, in seconds (Default: 600)."
  default     = 600
}
