output "alarm_arns" {
  description = "Alarm ARNs by role"
  value = merge(
    {
      web_scale_out = aws_cloudwatch_metric_alarm.web_scale_out.arn
      web_scale_in  = aws_cloudwatch_metric_alarm.web_scale_in.arn
    },
    { for alarm in aws_cloudwatch_metric_alarm.annotator_scale_out : "annotator_scale_out" => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.annotator_scale_in : "annotator_scale_in" => alarm.arn },
  )
}

output "policy_arns" {
  description = "Scaling policy ARNs by role"
  value = merge(
    {
      web_scale_out = aws_autoscaling_policy.web_scale_out.arn
      web_scale_in  = aws_autoscaling_policy.web_scale_in.arn
    },
    { for policy in aws_autoscaling_policy.annotator_scale_out : "annotator_scale_out" => policy.arn },
    { for policy in aws_autoscaling_policy.annotator_scale_in : "annotator_scale_in" => policy.arn },
    { for policy in aws_autoscaling_policy.annotator_backlog : "annotator_backlog" => policy.arn },
  )
}
