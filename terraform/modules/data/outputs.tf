output "table_names" {
  description = "Table names by role (annotations, users)"
  value = {
    annotations = aws_dynamodb_table.annotations.name
    users       = aws_dynamodb_table.users.name
  }
}

output "table_arns" {
  description = "Table ARNs by role (annotations, users)"
  value = {
    annotations = aws_dynamodb_table.annotations.arn
    users       = aws_dynamodb_table.users.arn
  }
}

output "jobs_by_user_index_name" {
  description = "Name of the annotations index on user_id + submit_time"
  value       = "user_id-submit_time-index"
}
