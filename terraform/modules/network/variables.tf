variable "name_prefix" {
  description = "Stack name (GAS_STACK): prefixes every Name tag and security group"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "cidr" {
  description = "CIDR block of the VPC (a /16 leaves room for the /24 subnets)"
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread the subnets over"
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be 2 to 6: the load balancer needs two zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per zone (survives a zone outage)"
  type        = bool
  default     = true
}

variable "alb_listener_ports" {
  description = "Ports the load balancer listens on"
  type        = list(number)
  default     = [80, 443]
}

variable "alb_ingress_cidr" {
  description = "Who may reach the load balancer"
  type        = string
  default     = "0.0.0.0/0"
}

variable "web_port" {
  description = "Port the web app listens on"
  type        = number
  default     = 8080
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
