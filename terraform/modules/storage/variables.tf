variable "name_prefix" {
  description = "Stack name (GAS_STACK): the buckets are `<name_prefix>-inputs` and `<name_prefix>-results`"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "cors_allowed_origins" {
  description = "Origins allowed to POST uploads to the inputs bucket: the web app's URL (GAS_WEB_URL)"
  type        = list(string)
}

variable "inputs_expiration_days" {
  description = "Days an uploaded input file is kept"
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept"
  type        = number
  default     = 30
}

variable "results_noncurrent_version_expiration_days" {
  description = "Days a replaced results version is kept. Archiving (s3-glacier) and restoring copy an object onto itself in another storage class, leaving the old copy as a noncurrent version: it must go soon, or the archive saves nothing"
  type        = number
  default     = 1
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets (their objects are lost)"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
