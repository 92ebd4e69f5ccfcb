variable "name_prefix" {
  description = "Stack name (GAS_STACK): prefixes every alarm and policy"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "web_autoscaling_group_name" {
  description = "Name of the web auto scaling group"
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (LoadBalancer dimension)"
  type        = string
}

variable "annotator_autoscaling_group_name" {
  description = "Name of the annotator auto scaling group"
  type        = string
}

variable "job_requests_queue_name" {
  description = "Name of the job-requests queue (QueueName dimension)"
  type        = string
}

variable "web_period_seconds" {
  description = "Period of the web alarms"
  type        = number
  default     = 60
}

variable "web_scale_out_request_count" {
  description = "Web scales out when the load balancer counts more requests than this in one period"
  type        = number
  default     = 200
}

variable "web_scale_out_evaluation_periods" {
  description = "Breaching periods before the web tier scales out"
  type        = number
  default     = 1
}

variable "web_scale_in_response_time_seconds" {
  description = "Web scales in when the targets' average response time is below this (seconds)"
  type        = number
  default     = 0.01
}

variable "web_scale_in_evaluation_periods" {
  description = "Breaching periods before the web tier scales in"
  type        = number
  default     = 1
}

variable "web_cooldown_seconds" {
  description = "Cooldown after a web scaling activity"
  type        = number
  default     = 300
}

variable "annotator_scaling" {
  description = "How the annotators scale: `step` (the seed's NumberOfMessagesSent alarms) or `backlog` (target tracking on backlog per instance)"
  type        = string
  default     = "step"

  validation {
    condition     = contains(["step", "backlog"], var.annotator_scaling)
    error_message = "annotator_scaling must be \"step\" or \"backlog\"."
  }
}

variable "annotator_period_seconds" {
  description = "Period of the annotator alarms"
  type        = number
  default     = 300
}

variable "annotator_scale_out_messages" {
  description = "Annotators scale out when more job requests than this are sent in one period"
  type        = number
  default     = 10
}

variable "annotator_scale_out_evaluation_periods" {
  description = "Breaching periods before the annotators scale out"
  type        = number
  default     = 1
}

variable "annotator_scale_in_messages" {
  description = "Annotators scale in when fewer job requests than this are sent in one period"
  type        = number
  default     = 5
}

variable "annotator_scale_in_evaluation_periods" {
  description = "Breaching periods before the annotators scale in"
  type        = number
  default     = 2
}

variable "annotator_cooldown_seconds" {
  description = "Cooldown (step) or instance warm-up (backlog) of the annotators"
  type        = number
  default     = 300
}

variable "annotator_backlog_per_instance" {
  description = "Target of the backlog policy: acceptable visible job requests per annotator (longest acceptable wait / time per job)"
  type        = number
  default     = 2
}

variable "backlog_metric_namespace" {
  description = "CloudWatch namespace of the BacklogPerInstance metric published by the workers tier"
  type        = string
  default     = "GAS"
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
