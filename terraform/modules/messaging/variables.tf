variable "name_prefix" {
  description = "Stack name (GAS_STACK): prefixes every topic and queue, e.g. `gas` gives `gas-job-requests`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "free_retention_seconds" {
  description = "How long Free users keep their results before archiving (GAS_FREE_RETENTION_SECONDS): the archive queue's DelaySeconds"
  type        = number
  default     = 600

  validation {
    condition     = var.free_retention_seconds >= 0 && var.free_retention_seconds <= 900
    error_message = "free_retention_seconds must be 0 to 900: SQS caps a queue's delay at 15 minutes."
  }
}

variable "job_visibility_seconds" {
  description = "Visibility timeout of the job-requests queue (GAS_JOB_VISIBILITY_SECONDS); the annotator extends it while a job runs"
  type        = number
  default     = 300

  validation {
    condition     = var.job_visibility_seconds >= 0 && var.job_visibility_seconds <= 43200
    error_message = "job_visibility_seconds must be 0 to 43200 (12 hours)."
  }
}

variable "queue_visibility_seconds" {
  description = "Visibility timeout of every other work queue"
  type        = number
  default     = 60
}

variable "receive_wait_time_seconds" {
  description = "Long polling wait of every work queue"
  type        = number
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be 0 to 20."
  }
}

variable "message_retention_seconds" {
  description = "How long a work queue keeps a message"
  type        = number
  default     = 345600 # 4 days
}

variable "max_receive_count" {
  description = "Receives of one message before SQS moves it to the dead-letter queue"
  type        = number
  default     = 3
}

variable "dead_letter_retention_seconds" {
  description = "How long a dead-letter queue keeps a message"
  type        = number
  default     = 1209600 # 14 days, the SQS maximum
}

variable "restrict_dead_letter_sources" {
  description = "Let each dead-letter queue take messages from its own work queue only (RedriveAllowPolicy; moto ignores the attribute, so the local env turns this off)"
  type        = bool
  default     = true
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the topic encryption key is deleted"
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "alarm_actions" {
  description = "ARNs told when a dead-letter queue alarms or recovers (e.g. an SNS topic that pages the operator); empty: the alarm shows in CloudWatch only"
  type        = list(string)
  default     = []
}
