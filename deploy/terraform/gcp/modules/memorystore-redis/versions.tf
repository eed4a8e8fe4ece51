terraform {
  # Terraform >= 1.6 or OpenTofu >= 1.6 (both read this block).
  required_version = ">= 1.6"
  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.12 is the first release with google_redis_cluster's persistence_config (cluster mode).
      version = ">= 6.12, < 8"
    }
    # Reads the Memorystore cluster's CA, which google_redis_cluster does not export (main.tf).
    http = {
      source  = "hashicorp/http"
      version = ">= 3.4, < 4"
    }
  }
}
