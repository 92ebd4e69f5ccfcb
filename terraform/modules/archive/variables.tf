variable "create" {
  description = "Create the vault: true only with the `vault` archive backend"
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Stack name (GAS_STACK): the vault is `<name_prefix>-archive`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "thaw_topic_arn" {
  description = "ARN of the thaw topic, told when a retrieval job completes"
  type        = string
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
