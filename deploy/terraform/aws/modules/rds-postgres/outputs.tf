output "address" {
  description = "Private DNS name of the primary."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.this.port
}

output "instance_id" {
  description = "RDS instance identifier (for aws rds restore-db-instance-to-point-in-time)."
  value       = aws_db_instance.this.identifier
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the owner password RDS manages and rotates."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.this.id
}
