variable "project_id" {
  type        = string
  description = "GCP project of the cluster."
}

variable "name" {
  type        = string
  description = "Cluster name, e.g. atrium-production."
}

variable "location" {
  type        = string
  description = "A region (regional cluster, production) or a zone (zonal cluster, staging). Changing it recreates the cluster."
}

variable "network_id" {
  type        = string
  description = "VPC network id (network module output)."
}

variable "subnet_name" {
  type        = string
  description = "GKE subnet name (network module output)."
}

variable "pods_range_name" {
  type        = string
  description = "Secondary range name for pods."
}

variable "services_range_name" {
  type        = string
  description = "Secondary range name for services."
}

variable "master_cidr" {
  type        = string
  description = "/28 for the control plane's private endpoint (Default: 172.16.0.0/28, document 004)."
  default     = "172.16.0.0/28"
}

variable "master_authorized_networks" {
  type        = map(string)
  description = "Ranges allowed to reach the control plane, by display name (Default: document 004's corporate and VPN ranges)."
  default = {
    corporate = "10.0.0.0/8"
    vpn       = "192.168.0.0/16"
  }
}

variable "binary_authorization" {
  type        = bool
  description = "Enforce the project's Binary Authorization policy (document 001: on in production). Default: false."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse `destroy` of the cluster (Default: true)."
  default     = true
}

variable "node_pools" {
  type = map(object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = number
    spot         = bool
    labels       = map(string)
    taints = list(object({
      key    = string
      value  = string
      effect = string
    }))
  }))
  description = "Node pools by name; min/max are totals across zones. Taints keep workloads on dedicated pools (document 004)."
}
