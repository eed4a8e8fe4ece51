output "cluster_name" {
  description = "EKS cluster name (the overlay's EC2NodeClass discovery tag)."
  value       = module.eks.cluster_name
}

output "service_account_role_arns" {
  description = "IRSA role per Atrium service account, for deploy/k8s/overlays/aws/<env>/irsa.yaml."
  value       = module.eks.service_account_role_arns
}

output "signing_key_alias_arn" {
  description = "ATRIUM_KMS_KEY for the overlay's config."
  value       = module.kms_signing.alias_arn
}

output "web_acl_arn" {
  description = "WAF web ACL for the Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn."
  value       = module.waf.web_acl_arn
}

output "postgres_address" {
  description = "RDS primary address for the database URLs."
  value       = module.postgres.address
}

output "karpenter_controller_role_arn" {
  description = "IRSA role for the Karpenter Helm release."
  value       = module.karpenter.controller_role_arn
}

output "redis_cluster_mode" {
  description = "True when Redis is a Redis Cluster (the redis-cluster secret, ATRIUM_REDIS_CLUSTER, says the same)."
  value       = module.redis.cluster_mode
}

output "redis_endpoint" {
  description = "host:port Atrium connects to: the configuration endpoint in cluster mode, the primary endpoint otherwise."
  value       = "${module.redis.endpoint}:${module.redis.port}"
}
