output "autoscaling_group_name" {
  description = "Name of the auto scaling group"
  value       = aws_autoscaling_group.this.name
}

output "autoscaling_group_arn" {
  description = "ARN of the auto scaling group"
  value       = aws_autoscaling_group.this.arn
}

output "launch_template_id" {
  description = "ID of the launch template"
  value       = aws_launch_template.this.id
}

output "user_data" {
  description = "The rendered user_data script (for review; contains no secrets)"
  value       = local.user_data
}

output "log_group_name" {
  description = "CloudWatch Logs group of the tier's units"
  value       = aws_cloudwatch_log_group.this.name
}
