terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.62"
    }
  }
}

# Every service at the emulator (moto server or LocalStack) on 127.0.0.1:4566.
provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    dynamodb = var.endpoint
    glacier  = var.endpoint
    iam      = var.endpoint
    kms      = var.endpoint
    s3       = var.endpoint
    ses      = var.endpoint
    sns      = var.endpoint
    sqs      = var.endpoint
    ssm      = var.endpoint
    sts      = var.endpoint
  }

  default_tags {
    tags = {
      Project   = "gas"
      Stack     = var.name_prefix
      ManagedBy = "terraform"
    }
  }
}
