output "vault_name" {
  description = "Name of the vault, or null when not created"
  value       = try(aws_glacier_vault.this[0].name, null)
}

output "vault_arn" {
  description = "ARN of the vault, or null when not created"
  value       = try(aws_glacier_vault.this[0].arn, null)
}
