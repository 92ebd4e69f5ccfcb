output "settings" {
  description = "The app's settings (gas/core/settings.py's environment variables); `make deploy` writes them to .gas/aws.env"
  value       = merge(local.environment, { GAS_WEB_URL = module.web.url })
}

output "web_url" {
  description = "Public URL of the app"
  value       = module.web.url
}

output "alb_dns_name" {
  description = "DNS name of the load balancer"
  value       = module.web.alb_dns_name
}

output "bucket_names" {
  description = "Bucket names by role"
  value       = module.storage.bucket_names
}

output "table_names" {
  description = "Table names by role"
  value       = module.data.table_names
}

output "topic_arns" {
  description = "Topic ARNs by name"
  value       = module.messaging.topic_arns
}

output "queue_urls" {
  description = "Work queue URLs by name"
  value       = module.messaging.queue_urls
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queue URLs by work queue name"
  value       = module.messaging.dead_letter_queue_urls
}

output "vault_name" {
  description = "Glacier vault name (`vault` backend), else null"
  value       = module.archive.vault_name
}

output "secret_parameter_names" {
  description = "SSM SecureString parameters the operator creates before the first apply (docs/deploy.md); the instances read them at boot"
  value       = module.secrets.parameter_names
}

output "autoscaling_group_names" {
  description = "Auto scaling group names by tier"
  value = {
    web       = module.web.autoscaling_group_name
    annotator = module.annotator.autoscaling_group_name
    workers   = module.workers.autoscaling_group_name
  }
}
