terraform {
  # Terraform >= 1.6 or OpenTofu >= 1.6 (both read this block).
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8"
    }
  }
}
