output "web_acl_arn" {
  description = "ARN of the web ACL; set it as alb.ingress.kubernetes.io/wafv2-acl-arn on the Atrium Ingress."
  value       = aws_wafv2_web_acl.edge.arn
}
