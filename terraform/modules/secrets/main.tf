# SSM SecureString parameters for the Stripe keys and the session secret.
# Terraform creates each with a placeholder and never reads or writes its value
# again: the operator enters the real value outside Terraform, e.g.
#   aws ssm put-parameter --overwrite --type SecureString --name /gas/stripe/secret-key --value sk_live_...
# so no secret reaches the Terraform state.

locals {
  parameters = {
    "stripe/secret-key"      = "Stripe secret API key (STRIPE_API_KEY)"
    "stripe/publishable-key" = "Stripe publishable key, sent to browsers by Stripe.js"
    "stripe/webhook-secret"  = "Signing secret of the Stripe webhook endpoint (STRIPE_WEBHOOK_SECRET)"
    "session-secret"         = "Key signing the web app's session cookies"
  }
}

resource "aws_ssm_parameter" "this" {
  for_each = local.parameters

  #checkov:skip=CKV_AWS_337:Encrypted with the AWS managed aws/ssm key; only the instance roles granted ssm:GetParameter on these exact parameters can read them, and a customer managed key adds cost without narrowing that.
  name        = "/${var.name_prefix}/${each.key}"
  description = each.value
  type        = "SecureString"
  value       = "entered-outside-terraform"

  lifecycle {
    ignore_changes = [value]
  }

  tags = var.tags
}
