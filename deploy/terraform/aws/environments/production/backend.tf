# Remote state in S3 with native locking (Terraform >= 1.10 / OpenTofu >= 1.10 `use_lockfile`).
# `terraform init -backend=false` (the offline check) skips this block.
terraform {
  backend "s3" {
    bucket       = "atrium-terraform-state-production"
    key          = "aws/production/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
