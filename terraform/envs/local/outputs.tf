output "settings" {
  description = "The app's settings for this emulator (export with AWS_ENDPOINT_URL set to the endpoint)"
  value = {
    AWS_ENDPOINT_URL           = var.endpoint
    AWS_REGION                 = var.region
    GAS_STACK                  = var.name_prefix
    GAS_FREE_RETENTION_SECONDS = tostring(var.free_retention_seconds)
    GAS_JOB_VISIBILITY_SECONDS = tostring(var.job_visibility_seconds)
    GAS_MAIL_SENDER            = var.mail_sender
    GAS_WEB_URL                = var.web_url
  }
}

output "queue_urls" {
  description = "Work queue URLs by name"
  value       = module.messaging.queue_urls
}

output "topic_arns" {
  description = "Topic ARNs by name"
  value       = module.messaging.topic_arns
}
