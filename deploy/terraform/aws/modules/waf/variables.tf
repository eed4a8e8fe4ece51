variable "name" {
  type        = string
  description = "Name prefix, e.g. atrium-production."
}

variable "rate_limit_requests" {
  type        = number
  description = "Requests one IP may send per window before it is blocked (Default: 100, document 001)."
  default     = 100
}

variable "rate_limit_window_seconds" {
  type        = number
  description = "Rate-limit evaluation window in seconds (Default: 60; AWS allows 60, 120, 300 or 600)."
  default     = 60
  validation {
    condition     = contains([60, 120, 300, 600], var.rate_limit_window_seconds)
    error_message = "AWS WAF evaluates rate-based rules over 60, 120, 300 or 600 seconds."
  }
}

variable "managed_rule_groups" {
  type        = list(string)
  description = "AWS managed rule groups applied after the rate limit, in order (Default: common, SQLi, known bad inputs)."
  default     = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the web ACL. Default: none."
  default     = {}
}
