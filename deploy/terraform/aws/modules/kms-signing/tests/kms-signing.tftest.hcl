mock_provider "aws" {}

variables {
  name             = "atrium-test"
  account_id       = "123456789012"
  signer_role_arns = ["arn:aws:iam::123456789012:role/atrium-test-atrium-api"]
}

run "licensing_root_is_rsa_4096_sign_verify" {
  command = plan

  assert {
    condition     = aws_kms_key.root.customer_master_key_spec == "RSA_4096"
    error_message = "The licensing root key must be RSA_4096 (document 001)."
  }
  assert {
    condition     = aws_kms_key.root.key_usage == "SIGN_VERIFY"
    error_message = "The licensing root key signs; it must not encrypt."
  }
  assert {
    condition     = aws_kms_alias.root.name == "alias/atrium-test-license-signing-root"
    error_message = "The alias must match ATRIUM_KMS_KEY in the AWS overlays."
  }
  assert {
    condition     = strcontains(aws_kms_key.root.policy, "kms:Sign")
    error_message = "Signer roles must be allowed kms:Sign."
  }
}
