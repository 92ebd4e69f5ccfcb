variable "name_prefix" {
  description = "Stack name (GAS_STACK): the group is `<name_prefix>-workers`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "publish_backlog_metric" {
  description = "Also run `gas.workers.backlog`, publishing the annotators' backlog per instance for target tracking"
  type        = bool
  default     = false
}

variable "environment" {
  description = "Settings for the workers (GAS_STACK, AWS_REGION, GAS_MAIL_SENDER, ...)"
  type        = map(string)
}

variable "artifact_bucket" {
  description = "Bucket holding the release artifact"
  type        = string
}

variable "artifact_key" {
  description = "Key of the release artifact"
  type        = string
}

variable "image_id" {
  description = "AMI of the instances (Amazon Linux 2023)"
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the workers"
  type        = string
  default     = "t3.small"
}

variable "instance_profile_arn" {
  description = "ARN of the workers tier's instance profile"
  type        = string
}

variable "security_group_id" {
  description = "Security group of the workers (egress only)"
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the workers"
  type        = list(string)
}

variable "size" {
  description = "Instances in the group (each runs every worker; the handlers are idempotent)"
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
