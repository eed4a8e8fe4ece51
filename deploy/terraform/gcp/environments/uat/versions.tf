terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
  default_labels = {
    app         = "atrium"
    environment = var.environment
    managed-by  = "terraform"
  }
}
