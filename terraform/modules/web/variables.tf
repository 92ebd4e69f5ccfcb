variable "name_prefix" {
  description = "Stack name (GAS_STACK): the load balancer, target group and group are `<name_prefix>-web`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the target group"
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer (two zones at least)"
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the web instances"
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer"
  type        = string
}

variable "security_group_id" {
  description = "Security group of the web instances (reachable from the load balancer only)"
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS; null serves plain HTTP only"
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener"
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "url" {
  description = "Public URL of the app (GAS_WEB_URL) when a DNS name points at the load balancer; null uses the load balancer's own name"
  type        = string
  default     = null
}

variable "port" {
  description = "Port the app listens on"
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Path the load balancer checks; must answer 200 without a login"
  type        = string
  default     = "/healthz"
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (set false, apply, then destroy to tear down)"
  type        = bool
  default     = true
}

variable "environment" {
  description = "Settings for the app (GAS_STACK, AWS_REGION, ...); GAS_WEB_URL is added here"
  type        = map(string)
}

variable "secret_parameters" {
  description = "Environment variable name => SSM SecureString parameter, read at boot (STRIPE_API_KEY, ...)"
  type        = map(string)
  default     = {}
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
  description = "EC2 instance type of the web instances"
  type        = string
  default     = "t3.small"
}

variable "instance_profile_arn" {
  description = "ARN of the web tier's instance profile"
  type        = string
}

variable "min_size" {
  description = "Fewest web instances"
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most web instances"
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "workers" {
  description = "gunicorn worker processes per instance (about two per vCPU)"
  type        = number
  default     = 4
}
