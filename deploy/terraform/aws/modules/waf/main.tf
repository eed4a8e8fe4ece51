# Edge protection for the ALB (document 003: AWS WAF with rate and OWASP rules), mirroring Cloud Armor on GCP:
# a per-IP rate-based block at 100 requests per 60 s (document 001), then AWS managed rule groups for SQL
# injection, cross-site scripting (in the common rule set) and known bad inputs.
resource "aws_wafv2_web_acl" "edge" {
  name        = "${var.name}-edge"
  description = "Atrium edge: per-IP rate limit plus managed OWASP rules"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 10
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit                 = var.rate_limit_requests
        evaluation_window_sec = var.rate_limit_window_seconds
        aggregate_key_type    = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = var.managed_rule_groups
    content {
      name     = rule.value
      priority = 20 + rule.key
      override_action {
        none {}
      }
      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value
        }
      }
      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-${rule.value}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-edge"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}
