variable "prefix" {
  type        = string
  description = "Path prefix of every secret name, e.g. atrium (names become atrium/database-app-url)."
}

variable "secrets" {
  type        = map(string)
  description = "Secret names (without prefix) mapped to their description."
}

variable "values" {
  type        = map(string)
  description = "Initial values for some of the secrets, keyed like `secrets`. Stored in state: keep state encrypted. Default: none."
  default     = {}
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed symmetric KMS key that encrypts the secrets."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (Default: 30)."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every secret. Default: none."
  default     = {}
}
