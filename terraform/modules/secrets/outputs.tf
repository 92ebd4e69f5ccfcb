output "parameter_names" {
  description = "Parameter names by role (stripe/secret-key, stripe/publishable-key, stripe/webhook-secret, session-secret), created by the operator"
  value       = local.names
}

output "parameter_arns" {
  description = "Parameter ARNs by role, for the instance policies"
  value       = { for role, name in local.names : role => "${local.arn_prefix}${name}" }
}

output "parameter_descriptions" {
  description = "What each parameter holds, by role"
  value       = local.parameters
}
