variable "name_prefix" {
  description = "Stack name (GAS_STACK): parameters are `/<name_prefix>/stripe/secret-key`, `/<name_prefix>/stripe/publishable-key` and `/<name_prefix>/session-secret`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}
