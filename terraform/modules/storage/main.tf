# The inputs and results buckets. Names and the settings the emulator bootstrap
# applies (public access block, SSE-S3, CORS for direct upload) match gas/local/bootstrap.py.

locals {
  buckets = ["inputs", "results"]
}

resource "aws_s3_bucket" "this" {
  for_each = toset(local.buckets)

  #checkov:skip=CKV_AWS_18:Access logs need a third, log-only bucket; every read and write is already a DynamoDB-recorded job. Enable with CloudTrail data events where auditing is required.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; inputs are re-uploadable and results re-computable.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256), as the emulator bootstrap sets: a KMS key adds per-request cost and key grants for presigned POST and GET without changing who can read.
  #checkov:skip=CKV2_AWS_62:No S3 event notifications: the web app registers each upload itself and publishes to SNS.
  bucket        = "${var.name_prefix}-${each.key}"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = toset(local.buckets)

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = toset(local.buckets)

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = toset(local.buckets)

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Versioning protects results from an overwrite or a mistaken delete; old
# versions expire (lifecycle below), so it costs little.
resource "aws_s3_bucket_versioning" "this" {
  for_each = toset(local.buckets)

  bucket = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

# Browsers POST uploads straight to the inputs bucket from the web app's origin.
resource "aws_s3_bucket_cors_configuration" "inputs" {
  bucket = aws_s3_bucket.this["inputs"].id

  cors_rule {
    allowed_origins = var.cors_allowed_origins
    allowed_methods = ["POST"]
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Location"]
    max_age_seconds = 3000
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "inputs" {
  bucket = aws_s3_bucket.this["inputs"].id

  rule {
    id     = "expire-inputs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.inputs_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# The `s3-glacier` archive backend needs no lifecycle rule: the archiver copies a
# Free user's result onto itself with StorageClass GLACIER (gas/services/cold_storage.py),
# and a restore copies it back to STANDARD. Each copy leaves the previous one as a
# noncurrent version, which expires after a day: a Standard copy kept for 30 days
# would cost more than the archive saves.
resource "aws_s3_bucket_lifecycle_configuration" "results" {
  bucket = aws_s3_bucket.this["results"].id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.results_noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# TLS only.
data "aws_iam_policy_document" "this" {
  for_each = toset(local.buckets)

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = toset(local.buckets)

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
