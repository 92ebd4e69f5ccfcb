variable "name_prefix" {
  description = "Stack name (GAS_STACK): the group is `<name_prefix>-annotator`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "workers_per_instance" {
  description = "Annotator processes per instance (one job each at a time)"
  type        = number
  default     = 1
}

variable "environment" {
  description = "Settings for the workers (GAS_STACK, AWS_REGION, GAS_JOB_VISIBILITY_SECONDS, ...)"
  type        = map(string)
}

variable "artifact_bucket" {
  description = "Bucket holding the release artifact"
  type        = string
}

variable "artifact_key" {
  description = "Key of the release artifact (it must contain the annotation bundle)"
  type        = string
}

variable "image_id" {
  description = "AMI of the instances (Amazon Linux 2023)"
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the annotators"
  type        = string
  default     = "c6i.large"
}

variable "root_volume_size" {
  description = "Root volume size in GiB (inputs and results are staged on it)"
  type        = number
  default     = 30
}

variable "instance_profile_arn" {
  description = "ARN of the annotator tier's instance profile"
  type        = string
}

variable "security_group_id" {
  description = "Security group of the annotators (egress only)"
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the annotators"
  type        = list(string)
}

variable "min_size" {
  description = "Fewest annotator instances"
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most annotator instances"
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
