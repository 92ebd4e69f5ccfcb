variable "name_prefix" {
  description = "Stack name (GAS_STACK): the group is `<name_prefix>-<tier>`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "tier" {
  description = "Which tier this group runs"
  type        = string

  validation {
    condition     = contains(["web", "annotator", "workers"], var.tier)
    error_message = "tier must be web, annotator or workers."
  }
}

variable "units" {
  description = "systemd units to start: `gas-<name>.service` runs `python -m <module> <args>`"
  type = list(object({
    name   = string
    module = string
    args   = string
  }))
}

variable "environment" {
  description = "Settings written to /etc/gas/gas.env for every unit (GAS_STACK, AWS_REGION, ...)"
  type        = map(string)
}

variable "secret_parameters" {
  description = "Environment variable name => SSM SecureString parameter name, read at boot into /etc/gas/secrets.env"
  type        = map(string)
  default     = {}
}

variable "artifact_bucket" {
  description = "Bucket holding the release artifact"
  type        = string
}

variable "artifact_key" {
  description = "Key of the release artifact (a tar.gz with wheels/ and, for annotators, the bundle)"
  type        = string
}

variable "image_id" {
  description = "AMI of the instances: Amazon Linux 2023 (dnf, systemd)"
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type"
  type        = string
}

variable "root_volume_size" {
  description = "Root volume size in GiB"
  type        = number
  default     = 20
}

variable "instance_profile_arn" {
  description = "ARN of the tier's instance profile"
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the instances"
  type        = list(string)
}

variable "subnet_ids" {
  description = "Private subnets the instances run in"
  type        = list(string)
}

variable "target_group_arns" {
  description = "Load balancer target groups to register with; empty for tiers without one"
  type        = list(string)
  default     = []
}

variable "min_size" {
  description = "Fewest instances"
  type        = number
}

variable "max_size" {
  description = "Most instances"
  type        = number
}

variable "desired_capacity" {
  description = "Instances at creation; scaling policies change it afterwards"
  type        = number
}

variable "health_check_grace_period" {
  description = "Seconds after launch before health checks count (installing the release takes a while)"
  type        = number
  default     = 300
}

variable "default_cooldown" {
  description = "Seconds between simple scaling activities"
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "Days the tier's logs are kept in CloudWatch Logs"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource and propagated to instances"
  type        = map(string)
  default     = {}
}
