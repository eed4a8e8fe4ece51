variable "cluster_name" {
  type        = string
  description = "EKS cluster name; the node role becomes <cluster_name>-karpenter-node (the EC2NodeClass refers to it)."
}

variable "region" {
  type        = string
  description = "AWS region of the cluster."
}

variable "account_id" {
  type        = string
  description = "AWS account id of the cluster."
}

variable "partition" {
  type        = string
  description = "AWS partition (Default: aws)."
  default     = "aws"
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the cluster's IAM OIDC provider (eks module output)."
}

variable "oidc_provider_host" {
  type        = string
  description = "OIDC issuer host without scheme (eks module output)."
}

variable "namespace" {
  type        = string
  description = "Namespace of the Karpenter controller's service account `karpenter` (Default: kube-system)."
  default     = "kube-system"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Default: none."
  default     = {}
}
