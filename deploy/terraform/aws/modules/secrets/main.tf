# Secret containers in Secrets Manager. Values are written by the environment (generated passwords composed into
# connection URLs) or by an operator; the External Secrets Operator copies them into the cluster.
resource "aws_secretsmanager_secret" "this" {
  for_each = var.secrets

  name                    = "${var.prefix}/${each.key}"
  description             = each.value
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each = nonsensitive(toset(keys(var.values)))

  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = var.values[each.key]
}

resource "aws_iam_policy" "read" {
  name        = "${replace(var.prefix, "/", "-")}-secrets-read"
  description = "Read the ${var.prefix}/* secrets (attached to the IRSA roles External Secrets uses)."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = [for s in aws_secretsmanager_secret.this : s.arn]
      }, {
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = [var.kms_key_arn]
    }]
  })
  tags = var.tags
}
