output "instance_profile_arns" {
  description = "Instance profile ARNs by tier (web, annotator, workers)"
  value       = { for tier, profile in aws_iam_instance_profile.this : tier => profile.arn }
}

output "role_arns" {
  description = "Role ARNs by tier (web, annotator, workers)"
  value       = { for tier, role in aws_iam_role.this : tier => role.arn }
}
