variable "name_prefix" {
  description = "Stack name (GAS_STACK): prefixes every bucket, table, topic, queue, vault, group and role. Bucket names are global across AWS, so no default: pick one nobody else has, e.g. gas-<account id>"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the stack (AWS_REGION)"
  type        = string
  default     = "us-east-1"
}

variable "artifact_bucket" {
  description = "Bucket holding the release artifact (not created here: it outlives stacks)"
  type        = string
}

variable "artifact_key" {
  description = "Key of the release artifact: a tar.gz with wheels/ (GAS and its dependencies) and bundle/"
  type        = string
}

variable "mail_sender" {
  description = "Address notifications are sent from (GAS_MAIL_SENDER); SES must verify it"
  type        = string
}

variable "web_url" {
  description = "Public URL of the app, https://<a DNS name the certificate covers> pointing at the load balancer; null (only without a certificate) uses the load balancer's own name over HTTP"
  type        = string
  default     = null

  validation {
    condition     = var.web_url == null || can(regex("^https?://[a-z0-9.-]+(:[0-9]+)?$", var.web_url))
    error_message = "web_url must be a scheme and host, e.g. https://gas.example.com (no path)."
  }

  validation {
    condition     = var.certificate_arn == null || can(regex("^https://", var.web_url))
    error_message = "With certificate_arn, web_url must be the https:// URL of a DNS name the certificate covers: the load balancer's own name does not match the certificate."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the load balancer (HTTP then only redirects); null serves HTTP only, for trials"
  type        = string
  default     = null
}

variable "free_retention_seconds" {
  description = "Seconds Free users keep results before archiving (GAS_FREE_RETENTION_SECONDS, 0-900)"
  type        = number
  default     = 600

  validation {
    condition     = var.free_retention_seconds >= 0 && var.free_retention_seconds <= 900
    error_message = "free_retention_seconds must be 0 to 900: SQS caps a queue's delay at 15 minutes."
  }
}

variable "job_visibility_seconds" {
  description = "Visibility timeout of job requests (GAS_JOB_VISIBILITY_SECONDS)"
  type        = number
  default     = 300
}

variable "archive_backend" {
  description = "Cold storage for Free users' results: `s3-glacier` (storage class) or `vault` (Amazon Glacier vault)"
  type        = string
  default     = "s3-glacier"

  validation {
    condition     = contains(["s3-glacier", "vault"], var.archive_backend)
    error_message = "archive_backend must be \"s3-glacier\" or \"vault\"."
  }
}

variable "annotator_scaling" {
  description = "How the annotators scale: `step` (the seed's alarms) or `backlog` (target tracking on backlog per instance)"
  type        = string
  default     = "step"

  validation {
    condition     = contains(["step", "backlog"], var.annotator_scaling)
    error_message = "annotator_scaling must be \"step\" or \"backlog\"."
  }
}

variable "image_id" {
  description = "AMI of every instance, pinned: an Amazon Linux 2023 x86_64 AMI of the region. Rolling it replaces every instance (docs/deploy.md, \"Rolling the AMI\")"
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.image_id))
    error_message = "image_id must be an AMI id (ami-...)."
  }
}

variable "az_count" {
  description = "Availability zones to spread over"
  type        = number
  default     = 2
}

variable "single_nat_gateway" {
  description = "One NAT gateway (cheaper) instead of one per zone"
  type        = bool
  default     = true
}

variable "web_instance_type" {
  description = "EC2 instance type of the web tier"
  type        = string
  default     = "t3.small"
}

variable "web_min_size" {
  description = "Fewest web instances"
  type        = number
  default     = 2
}

variable "web_max_size" {
  description = "Most web instances"
  type        = number
  default     = 10
}

variable "annotator_instance_type" {
  description = "EC2 instance type of the annotators"
  type        = string
  default     = "c6i.large"
}

variable "annotator_min_size" {
  description = "Fewest annotator instances"
  type        = number
  default     = 2
}

variable "annotator_max_size" {
  description = "Most annotator instances"
  type        = number
  default     = 10
}

variable "deletion_protection" {
  description = "Protect the tables and the load balancer from deletion (false before tearing down)"
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty and delete the buckets"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra default tags on every resource"
  type        = map(string)
  default     = {}
}

variable "dead_letter_alarm_actions" {
  description = "ARNs (e.g. an SNS topic with the operator's email) told when any dead-letter queue holds a message"
  type        = list(string)
  default     = []
}
