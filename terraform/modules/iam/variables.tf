variable "name_prefix" {
  description = "Stack name (GAS_STACK): roles and profiles are `<name_prefix>-<tier>`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "artifact_bucket" {
  description = "Bucket holding the release artifact"
  type        = string
}

variable "artifact_key" {
  description = "Key of the release artifact"
  type        = string
}

variable "bucket_arns" {
  description = "Bucket ARNs by role (inputs, results)"
  type        = map(string)
}

variable "table_arns" {
  description = "Table ARNs by role (annotations, users)"
  type        = map(string)
}

variable "topic_arns" {
  description = "Topic ARNs by topic name"
  type        = map(string)
}

variable "topic_kms_key_arn" {
  description = "ARN of the key encrypting the topics"
  type        = string
}

variable "queue_arns" {
  description = "Work queue ARNs by queue name"
  type        = map(string)
}

variable "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs by work queue name"
  type        = map(string)
}

variable "ses_identity_arn" {
  description = "ARN of the SES identity mail is sent as"
  type        = string
}

variable "parameter_arns" {
  description = "ARNs of the SSM parameters the web tier reads at boot"
  type        = map(string)
}

variable "vault_arn" {
  description = "ARN of the Glacier vault (`vault` backend), or null"
  type        = string
  default     = null
}

variable "metric_namespace" {
  description = "The only CloudWatch namespace the workers may publish to"
  type        = string
  default     = "GAS"
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
