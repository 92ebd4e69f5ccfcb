output "topic_arns" {
  description = "Topic ARNs by topic name (job-requests, job-results, restore, thaw)"
  value       = { for name, topic in aws_sns_topic.this : name => topic.arn }
}

output "queue_arns" {
  description = "Work queue ARNs by queue name"
  value       = { for name, queue in aws_sqs_queue.this : name => queue.arn }
}

output "queue_urls" {
  description = "Work queue URLs by queue name"
  value       = { for name, queue in aws_sqs_queue.this : name => queue.id }
}

output "queue_names" {
  description = "Work queue names by queue name"
  value       = { for name, queue in aws_sqs_queue.this : name => queue.name }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs by work queue name"
  value       = { for name, queue in aws_sqs_queue.dead_letters : name => queue.arn }
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queue URLs by work queue name"
  value       = { for name, queue in aws_sqs_queue.dead_letters : name => queue.id }
}

output "kms_key_arn" {
  description = "ARN of the key encrypting the topics: publishers need kms:GenerateDataKey and kms:Decrypt on it"
  value       = aws_kms_key.this.arn
}

output "dead_letter_alarm_arns" {
  description = "The dead-letter queue alarms' ARNs by work queue name"
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.dead_letters : name => alarm.arn }
}
