# The SES identity mail is sent from (GAS_MAIL_SENDER), as the emulator bootstrap verifies it.
# An email identity needs its verification link clicked once; a domain identity needs its DNS records.

resource "aws_ses_email_identity" "this" {
  count = var.identity_type == "email" ? 1 : 0

  email = var.mail_sender
}

resource "aws_ses_domain_identity" "this" {
  count = var.identity_type == "domain" ? 1 : 0

  domain = split("@", var.mail_sender)[1]
}
