output "key_arn" {
  description = "ARN of the RSA-4096 signing key."
  value       = aws_kms_key.root.arn
}

output "key_id" {
  description = "Id of the signing key."
  value       = aws_kms_key.root.key_id
}

output "alias_arn" {
  description = "ARN of the alias; set it as ATRIUM_KMS_KEY so rotation only moves the alias."
  value       = aws_kms_alias.root.arn
}
