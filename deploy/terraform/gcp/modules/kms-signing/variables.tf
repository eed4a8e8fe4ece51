variable "project_id" {
  type        = string
  description = "GCP project of the key ring."
}

variable "location" {
  type        = string
  description = "KMS location (Default: us-central1, document 001)."
  default     = "us-central1"
}

variable "key_ring_name" {
  type        = string
  description = "Key ring name, e.g. atrium-production-licensing (key rings cannot be deleted: pick once)."
}

variable "key_name" {
  type        = string
  description = "Crypto key name (Default: license-signing-root)."
  default     = "license-signing-root"
}

variable "signer_members" {
  type        = list(string)
  description = "IAM members allowed to sign (serviceAccount:…). Default: none."
  default     = []
}

variable "public_key_viewer_members" {
  type        = list(string)
  description = "IAM members allowed to read the public key. Default: none."
  default     = []
}
