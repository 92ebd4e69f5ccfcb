variable "mail_sender" {
  description = "Address GAS sends notifications from (GAS_MAIL_SENDER)"
  type        = string

  validation {
    condition     = can(regex("^[^@ ]+@[^@ ]+$", var.mail_sender))
    error_message = "mail_sender must be an email address."
  }
}

variable "identity_type" {
  description = "Verify the sender's `email` address alone, or its whole `domain` (needs DNS records)"
  type        = string
  default     = "email"

  validation {
    condition     = contains(["email", "domain"], var.identity_type)
    error_message = "identity_type must be \"email\" or \"domain\"."
  }
}
