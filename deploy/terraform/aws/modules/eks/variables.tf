variable "name" {
  type        = string
  description = "Cluster name, e.g. atrium-production."
}

variable "partition" {
  type        = string
  description = "AWS partition (Default: aws)."
  default     = "aws"
}

variable "kubernetes_version" {
  type        = string
  description = "EKS Kubernetes minor version (Default: 1.32, the version the manifests are tested with)."
  default     = "1.32"
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private application subnets for the control-plane ENIs and nodes."
}

variable "public_access_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach the public API endpoint; empty keeps the endpoint private only (Default: empty)."
  default     = []
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Symmetric KMS key that envelope-encrypts Kubernetes Secrets."
}

variable "baseline_instance_types" {
  type        = list(string)
  description = "Graviton instance types of the on-demand baseline group (Default: m7g.xlarge, 4 vCPU 16 GiB like n2-standard-4)."
  default     = ["m7g.xlarge"]
}

variable "baseline_min_size" {
  type        = number
  description = "Minimum (and initial) baseline nodes (Default: 3, one per zone)."
  default     = 3
}

variable "baseline_max_size" {
  type        = number
  description = "Maximum baseline nodes; Karpenter provides burst beyond it (Default: 10)."
  default     = 10
}

variable "node_disk_gb" {
  type        = number
  description = "Root volume size per node in GB (Default: 100, document 000)."
  default     = 100
}

variable "service_account_roles" {
  type = map(object({
    namespace       = string
    service_account = string
    policy_arns     = list(string)
  }))
  description = "IRSA roles to create, keyed by role suffix (role name <name>-<key>). Default: none."
  default     = {}
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Default: none."
  default     = {}
}
