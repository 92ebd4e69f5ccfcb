variable "endpoint" {
  description = "URL of the emulator (moto server or LocalStack)"
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "name_prefix" {
  description = "Stack name (GAS_STACK)"
  type        = string
  default     = "gas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "Region the emulator answers for (AWS_REGION)"
  type        = string
  default     = "us-east-1"
}

variable "web_url" {
  description = "The local web app's URL (GAS_WEB_URL), allowed to POST uploads"
  type        = string
  default     = "http://127.0.0.1:8080"
}

variable "mail_sender" {
  description = "Address notifications are sent from (GAS_MAIL_SENDER)"
  type        = string
  default     = "gas-noreply@example.com"
}

variable "free_retention_seconds" {
  description = "Seconds Free users keep results before archiving (GAS_FREE_RETENTION_SECONDS, 0-900)"
  type        = number
  default     = 600
}

variable "job_visibility_seconds" {
  description = "Visibility timeout of job requests (GAS_JOB_VISIBILITY_SECONDS)"
  type        = number
  default     = 300
}
