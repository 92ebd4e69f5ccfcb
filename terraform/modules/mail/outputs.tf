output "identity_arn" {
  description = "ARN of the SES identity the instances may send as"
  value       = one(concat(aws_ses_email_identity.this[*].arn, aws_ses_domain_identity.this[*].arn))
}

output "domain_verification_token" {
  description = "TXT record value proving the domain (domain identity only), else null"
  value       = try(aws_ses_domain_identity.this[0].verification_token, null)
}
