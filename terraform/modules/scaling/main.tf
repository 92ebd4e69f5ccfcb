# CloudWatch alarms and scaling policies, with the seed's values as defaults.
#
# Web: +1 when the load balancer counts more than 200 requests in 60 s (one
# datapoint); -1 when the targets answer in under 10 ms on average, or get no
# request at all; cooldown 300 s.
# Annotators, `step`: +1 when more than 10 job requests are sent in 5 minutes
# (one datapoint); -1 when fewer than 5 (two datapoints).
# Annotators, `backlog`: target tracking on backlog per instance (visible job
# requests / InService annotators), published by the workers tier as a custom
# metric: AWS's recommended pattern for queue-fed groups; the step alarms lag
# behind the queue, and the seed saw the group swing between 2 and 4.

################################################################################
# Web
################################################################################

resource "aws_autoscaling_policy" "web_scale_out" {
  name                   = "${var.name_prefix}-web-scale-out"
  autoscaling_group_name = var.web_autoscaling_group_name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = 1
  cooldown               = var.web_cooldown_seconds
}

resource "aws_autoscaling_policy" "web_scale_in" {
  name                   = "${var.name_prefix}-web-scale-in"
  autoscaling_group_name = var.web_autoscaling_group_name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = -1
  cooldown               = var.web_cooldown_seconds
}

resource "aws_cloudwatch_metric_alarm" "web_scale_out" {
  alarm_name          = "${var.name_prefix}-web-requests-high"
  alarm_description   = "Web: more than ${var.web_scale_out_request_count} requests in ${var.web_period_seconds} s; add an instance"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "RequestCount"
  statistic           = "Sum"
  period              = var.web_period_seconds
  evaluation_periods  = var.web_scale_out_evaluation_periods
  datapoints_to_alarm = var.web_scale_out_evaluation_periods
  threshold           = var.web_scale_out_request_count
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.web_scale_out.arn]

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
  }

  tags = var.tags
}

# An idle load balancer publishes no TargetResponseTime. No request at all is the
# lowest latency there is, so missing data breaches and the idle tier scales in;
# with notBreaching it kept its size for good once the load stopped
# (loadtest/scaling_replay.py shows both).
resource "aws_cloudwatch_metric_alarm" "web_scale_in" {
  alarm_name          = "${var.name_prefix}-web-latency-low"
  alarm_description   = "Web: targets answer in under ${var.web_scale_in_response_time_seconds} s on average; remove an instance"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  statistic           = "Average"
  period              = var.web_period_seconds
  evaluation_periods  = var.web_scale_in_evaluation_periods
  datapoints_to_alarm = var.web_scale_in_evaluation_periods
  threshold           = var.web_scale_in_response_time_seconds
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_autoscaling_policy.web_scale_in.arn]

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
  }

  tags = var.tags
}

################################################################################
# Annotators: step (the seed's alarms)
################################################################################

resource "aws_autoscaling_policy" "annotator_scale_out" {
  count = var.annotator_scaling == "step" ? 1 : 0

  name                   = "${var.name_prefix}-annotator-scale-out"
  autoscaling_group_name = var.annotator_autoscaling_group_name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = 1
  cooldown               = var.annotator_cooldown_seconds
}

resource "aws_autoscaling_policy" "annotator_scale_in" {
  count = var.annotator_scaling == "step" ? 1 : 0

  name                   = "${var.name_prefix}-annotator-scale-in"
  autoscaling_group_name = var.annotator_autoscaling_group_name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = -1
  cooldown               = var.annotator_cooldown_seconds
}

resource "aws_cloudwatch_metric_alarm" "annotator_scale_out" {
  count = var.annotator_scaling == "step" ? 1 : 0

  alarm_name          = "${var.name_prefix}-job-requests-high"
  alarm_description   = "Annotators: more than ${var.annotator_scale_out_messages} job requests in ${var.annotator_period_seconds} s; add an instance"
  namespace           = "AWS/SQS"
  metric_name         = "NumberOfMessagesSent"
  statistic           = "Sum"
  period              = var.annotator_period_seconds
  evaluation_periods  = var.annotator_scale_out_evaluation_periods
  datapoints_to_alarm = var.annotator_scale_out_evaluation_periods
  threshold           = var.annotator_scale_out_messages
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.annotator_scale_out[0].arn]

  dimensions = {
    QueueName = var.job_requests_queue_name
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "annotator_scale_in" {
  count = var.annotator_scaling == "step" ? 1 : 0

  alarm_name          = "${var.name_prefix}-job-requests-low"
  alarm_description   = "Annotators: fewer than ${var.annotator_scale_in_messages} job requests in ${var.annotator_period_seconds} s, twice; remove an instance"
  namespace           = "AWS/SQS"
  metric_name         = "NumberOfMessagesSent"
  statistic           = "Sum"
  period              = var.annotator_period_seconds
  evaluation_periods  = var.annotator_scale_in_evaluation_periods
  datapoints_to_alarm = var.annotator_scale_in_evaluation_periods
  threshold           = var.annotator_scale_in_messages
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_autoscaling_policy.annotator_scale_in[0].arn]

  dimensions = {
    QueueName = var.job_requests_queue_name
  }

  tags = var.tags
}

################################################################################
# Annotators: target tracking on backlog per instance
################################################################################

resource "aws_autoscaling_policy" "annotator_backlog" {
  count = var.annotator_scaling == "backlog" ? 1 : 0

  name                      = "${var.name_prefix}-annotator-backlog"
  autoscaling_group_name    = var.annotator_autoscaling_group_name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.annotator_cooldown_seconds

  target_tracking_configuration {
    target_value = var.annotator_backlog_per_instance

    customized_metric_specification {
      namespace   = var.backlog_metric_namespace
      metric_name = "BacklogPerInstance"
      statistic   = "Average"
      unit        = "Count"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = var.annotator_autoscaling_group_name
      }

      metric_dimension {
        name  = "QueueName"
        value = var.job_requests_queue_name
      }
    }
  }
}
