variable "project_id" {
  type        = string
  description = "GCP project of the service accounts."
}

variable "environment" {
  type        = string
  description = "Environment name, the accounts' prefix (document 000: {env}-flow-api@…)."
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the service accounts (Default: atrium)."
  default     = "atrium"
}

variable "workloads" {
  type = map(object({
    kubernetes_service_account = string
    project_roles              = list(string)
  }))
  description = "Google service accounts to create, keyed by short name, with their Kubernetes service account and project roles."
}
