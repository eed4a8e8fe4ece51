mock_provider "aws" {}

variables {
  name = "atrium-test"
}

run "rate_limit_is_100_per_60_seconds_per_ip" {
  command = plan

  assert {
    condition     = one([for r in aws_wafv2_web_acl.edge.rule : r.statement[0].rate_based_statement[0].limit if r.name == "rate-limit-per-ip"]) == 100
    error_message = "Document 001: 100 requests per IP."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.edge.rule : r.statement[0].rate_based_statement[0].evaluation_window_sec if r.name == "rate-limit-per-ip"]) == 60
    error_message = "The rate window must be 60 seconds."
  }
  assert {
    condition     = contains([for r in aws_wafv2_web_acl.edge.rule : r.name], "AWSManagedRulesSQLiRuleSet")
    error_message = "SQL injection rules must be on (parity with Cloud Armor sqli-stable)."
  }
  assert {
    condition     = contains([for r in aws_wafv2_web_acl.edge.rule : r.name], "AWSManagedRulesCommonRuleSet")
    error_message = "The common rule set (XSS) must be on (parity with Cloud Armor xss-stable)."
  }
}

run "rejects_a_window_waf_cannot_evaluate" {
  command = plan
  variables {
    rate_limit_window_seconds = 30
  }
  expect_failures = [var.rate_limit_window_seconds]
}
