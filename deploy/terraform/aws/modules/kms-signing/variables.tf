variable "name" {
  type        = string
  description = "Name prefix, e.g. atrium-production; the alias becomes alias/<name>-license-signing-root."
}

variable "account_id" {
  type        = string
  description = "AWS account id that owns the key (its root principal administers it)."
}

variable "partition" {
  type        = string
  description = "AWS partition of the account (Default: aws)."
  default     = "aws"
}

variable "signer_role_arns" {
  type        = list(string)
  description = "IAM role ARNs allowed to sign with the key (the Atrium API's IRSA role). Default: none."
  default     = []
}

variable "verifier_role_arns" {
  type        = list(string)
  description = "IAM role ARNs allowed to read the public key and verify. Default: none."
  default     = []
}

variable "deletion_window_days" {
  type        = number
  description = "Days a scheduled deletion waits before the key is destroyed (Default: 30, the maximum)."
  default     = 30
  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30
    error_message = "KMS allows a deletion window of 7 to 30 days."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the key. Default: none."
  default     = {}
}
