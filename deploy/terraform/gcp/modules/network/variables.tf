variable "project_id" {
  type        = string
  description = "GCP project that owns the network."
}

variable "name" {
  type        = string
  description = "Name prefix, e.g. atrium-production (network becomes <name>-vpc)."
}

variable "region" {
  type        = string
  description = "Region of the subnet, router and NAT (Default: us-central1, document 000)."
  default     = "us-central1"
}

variable "gke_subnet_cidr" {
  type        = string
  description = "Primary range of the GKE subnet (document 000: 10.x.0.0/20)."
}

variable "pods_cidr" {
  type        = string
  description = "Secondary range for pods (document 000: 10.x+1.0.0/16)."
}

variable "services_cidr" {
  type        = string
  description = "Secondary range for services (document 000: 10.x+2.0.0/20)."
}

variable "data_cidr" {
  type        = string
  description = "Range reserved for Private Service Access, used by Cloud SQL and Memorystore (document 000: 10.x+3.0.0/20)."
}

variable "flow_log_sampling" {
  type        = number
  description = "Share of flows logged (Default: 0.5, document 004; document 001 logs all)."
  default     = 0.5
}
