# The SSM SecureString parameters holding the Stripe keys and the session secret.
# Terraform neither creates nor reads them: a parameter resource (or data source)
# keeps its value in the state on every refresh. The operator creates each one
# before the first apply (docs/deploy.md), e.g.
#   aws ssm put-parameter --type SecureString --name /<name_prefix>/session-secret --value "$(openssl rand -base64 48)"
# and this module only names them, for the instances' user_data and IAM policies.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  parameters = {
    "stripe/secret-key"      = "Stripe secret API key (STRIPE_API_KEY)"
    "stripe/publishable-key" = "Stripe publishable key, sent to browsers by Stripe.js"
    "stripe/webhook-secret"  = "Signing secret of the Stripe webhook endpoint (STRIPE_WEBHOOK_SECRET)"
    "session-secret"         = "Key signing the web app's session cookies"
  }

  names = { for role in keys(local.parameters) : role => "/${var.name_prefix}/${role}" }
  arn_prefix = join(":", [
    "arn", data.aws_partition.current.partition, "ssm", data.aws_region.current.region,
    data.aws_caller_identity.current.account_id, "parameter",
  ])
}
