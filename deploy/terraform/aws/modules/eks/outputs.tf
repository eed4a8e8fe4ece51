output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the cluster and managed nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (for further IRSA roles)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_provider_host" {
  description = "Issuer host without scheme, used in IRSA trust conditions."
  value       = local.oidc_host
}

output "node_role_arn" {
  description = "IAM role of the managed nodes."
  value       = aws_iam_role.node.arn
}

output "service_account_role_arns" {
  description = "IRSA role ARN per key of service_account_roles; annotate the service accounts with them."
  value       = { for k, r in aws_iam_role.irsa : k => r.arn }
}
