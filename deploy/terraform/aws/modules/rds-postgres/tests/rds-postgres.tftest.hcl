mock_provider "aws" {}

variables {
  name                  = "atrium-test"
  vpc_id                = "vpc-12345678"
  subnet_ids            = ["subnet-1", "subnet-2", "subnet-3"]
  allowed_cidrs         = ["10.60.64.0/18"]
  instance_class        = "db.m7g.xlarge"
  storage_gb            = 200
  max_storage_gb        = 1000
  backup_retention_days = 30
  kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/test"
}

run "private_multi_az_encrypted_with_pitr" {
  command = plan

  assert {
    condition     = aws_db_instance.this.publicly_accessible == false
    error_message = "The database must never get a public address."
  }
  assert {
    condition     = aws_db_instance.this.multi_az
    error_message = "Document 003: Multi-AZ."
  }
  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.backup_retention_period == 30
    error_message = "Encryption and 30-day PITR retention are required in production."
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "max_connections"]) == "200"
    error_message = "Document 000: max_connections = 200 (the alert fires at 180)."
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "TLS must be enforced."
  }
}

run "zero_retention_would_disable_pitr" {
  command = plan
  variables {
    backup_retention_days = 0
  }
  expect_failures = [var.backup_retention_days]
}
