# DynamoDB tables: annotations (jobs, with the user_id + submit_time index) and users.
# Keys and the index match gas/local/bootstrap.py.

resource "aws_dynamodb_table" "annotations" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS owned key, as in the emulator bootstrap; a customer managed key adds cost without changing who can read.
  name                        = "${var.name_prefix}-annotations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "submit_time"
    type = "N"
  }

  global_secondary_index {
    name            = "user_id-submit_time-index"
    hash_key        = "user_id"
    range_key       = "submit_time"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "users" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS owned key, as in the emulator bootstrap; a customer managed key adds cost without changing who can read.
  name                        = "${var.name_prefix}-users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  # Login-throttle items (throttle#<hash>) carry expires_at; DynamoDB removes them after it.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = var.tags
}
