# The licensing root key: RSA-4096 for signing only (document 001). It certifies Atrium's short-lived in-process
# signing keys; it never signs individual seat tokens (DESIGN.md, "Signing on every acquire").
resource "aws_kms_key" "root" {
  description              = "${var.name} licensing root signing key"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "RSA_4096"
  deletion_window_in_days  = var.deletion_window_days
  # AWS cannot rotate asymmetric keys automatically; rotation is the runbook docs/runbooks/signing-key-rotation.md.
  enable_key_rotation = false
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      }],
      length(var.signer_role_arns) == 0 ? [] : [{
        Sid       = "AtriumSigns"
        Effect    = "Allow"
        Principal = { AWS = var.signer_role_arns }
        Action    = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"]
        Resource  = "*"
      }],
      length(var.verifier_role_arns) == 0 ? [] : [{
        Sid       = "PublicKeyReaders"
        Effect    = "Allow"
        Principal = { AWS = var.verifier_role_arns }
        Action    = ["kms:GetPublicKey", "kms:Verify", "kms:DescribeKey"]
        Resource  = "*"
    }])
  })
  tags = var.tags
}

resource "aws_kms_alias" "root" {
  name          = "alias/${var.name}-license-signing-root"
  target_key_id = aws_kms_key.root.key_id
}
