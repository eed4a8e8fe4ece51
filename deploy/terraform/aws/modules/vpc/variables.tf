variable "name" {
  type        = string
  description = "Name prefix for the VPC and its parts, e.g. atrium-production."
}

variable "region" {
  type        = string
  description = "AWS region, used for endpoint service names."
}

variable "cidr" {
  type        = string
  description = "The VPC's /16 range (document 003)."
  validation {
    condition     = can(cidrhost(var.cidr, 0)) && endswith(var.cidr, "/16")
    error_message = "The VPC range must be a valid /16."
  }
}

variable "azs" {
  type        = list(string)
  description = "Availability zones to spread subnets over (three, document 003)."
  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3
    error_message = "Use two or three availability zones."
  }
}

variable "cluster_name" {
  type        = string
  description = "EKS cluster name; application subnets are tagged karpenter.sh/discovery=<cluster_name>."
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all zones instead of one per zone (cheaper, not zone-redundant). Default: false."
  default     = false
}

variable "interface_endpoints" {
  type        = list(string)
  description = "Interface endpoints for AWS APIs (document 003). Default: ECR, CloudWatch Logs, STS, Secrets Manager, KMS, SSM."
  default     = ["ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager", "kms", "ssm"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Default: none."
  default     = {}
}
