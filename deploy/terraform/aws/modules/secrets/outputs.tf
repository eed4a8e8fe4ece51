output "secret_arns" {
  description = "ARN of each secret, keyed by its short name."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "read_policy_arn" {
  description = "IAM policy that reads these secrets; attach it to the service accounts' roles."
  value       = aws_iam_policy.read.arn
}
