variable "project_id" {
  type        = string
  description = "GCP project of the secrets."
}

variable "secrets" {
  type        = map(string)
  description = "Secret ids mapped to a description."
}

variable "values" {
  type        = map(string)
  description = "Initial values for some secrets (stored in state: keep the state bucket private). Default: none."
  default     = {}
  sensitive   = true
}

variable "accessor_members" {
  type        = list(string)
  description = "IAM members that may read every secret (the Atrium service accounts). Default: none."
  default     = []
}
