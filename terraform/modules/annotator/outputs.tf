output "autoscaling_group_name" {
  description = "Name of the annotator auto scaling group"
  value       = module.instances.autoscaling_group_name
}
