variable "name_prefix" {
  description = "Stack name (GAS_STACK): the tables are `<name_prefix>-annotations` and `<name_prefix>-users`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (set false, apply, then destroy to tear down)"
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
