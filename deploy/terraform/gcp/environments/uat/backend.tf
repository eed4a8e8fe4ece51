# Remote state in GCS (document 000: versioned bucket in a multi-region). Locking is built into the gcs backend.
terraform {
  backend "gcs" {
    bucket = "atrium-terraform-state"
    prefix = "gcp/uat"
  }
}
