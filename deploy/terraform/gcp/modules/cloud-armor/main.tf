# Document 004's Cloud Armor policy with document 001's limit: ban an IP that sends more than 100 requests in 60 s,
# deny sqli-stable and xss-stable matches with 403, adaptive protection on. The GKE BackendConfig names this policy.
resource "google_compute_security_policy" "edge" {
  project     = var.project_id
  name        = var.name
  description = "Atrium edge: per-IP rate-based ban, SQLi and XSS"

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable          = true
      rule_visibility = "STANDARD"
    }
  }

  rule {
    action      = "rate_based_ban"
    priority    = 1000
    description = "Ban an IP above ${var.rate_limit_count} requests per ${var.rate_limit_interval_sec} s"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.ban_duration_sec
      rate_limit_threshold {
        count        = var.rate_limit_count
        interval_sec = var.rate_limit_interval_sec
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 2000
    description = "SQL injection"
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('sqli-stable')"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 2100
    description = "Cross-site scripting"
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('xss-stable')"
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
