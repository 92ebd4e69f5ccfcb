output "autoscaling_group_name" {
  description = "Name of the workers auto scaling group"
  value       = module.instances.autoscaling_group_name
}
