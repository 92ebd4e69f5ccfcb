output "parameter_names" {
  description = "Parameter names by role (stripe/secret-key, stripe/publishable-key, session-secret)"
  value       = { for role, parameter in aws_ssm_parameter.this : role => parameter.name }
}

output "parameter_arns" {
  description = "Parameter ARNs by role (stripe/secret-key, stripe/publishable-key, session-secret)"
  value       = { for role, parameter in aws_ssm_parameter.this : role => parameter.arn }
}
