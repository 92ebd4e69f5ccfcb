# One role and instance profile per tier (web, annotator, workers), each allowed
# exactly the actions its handlers call on exactly the stack's resources.

data "aws_partition" "current" {}

locals {
  tiers = ["web", "annotator", "workers"]

  artifact_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.artifact_bucket}/${var.artifact_key}"

  consume = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
  ]

  policies = {
    web       = data.aws_iam_policy_document.web.json
    annotator = data.aws_iam_policy_document.annotator.json
    workers   = data.aws_iam_policy_document.workers.json
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = toset(local.tiers)

  name               = "${var.name_prefix}-${each.key}"
  description        = "GAS ${each.key} instances"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = toset(local.tiers)

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = local.policies[each.key]
}

# Session Manager (shell access without SSH or open ports) and the CloudWatch agent
# shipping the units' logs: AWS's managed policies for exactly these two agents.
resource "aws_iam_role_policy_attachment" "agents" {
  for_each = {
    for pair in setproduct(local.tiers, ["AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"]) :
    "${pair[0]}/${pair[1]}" => { tier = pair[0], policy = pair[1] }
  }

  role       = aws_iam_role.this[each.value.tier].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.value.policy}"
}

resource "aws_iam_instance_profile" "this" {
  for_each = toset(local.tiers)

  name = "${var.name_prefix}-${each.key}"
  role = aws_iam_role.this[each.key].name

  tags = var.tags
}

################################################################################
# web: presigned upload and download, job and user records, job requests and restores
################################################################################

data "aws_iam_policy_document" "web" {
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = [local.artifact_arn]
  }

  # DeleteObject: an upload over the size limit is refused and removed.
  statement {
    sid       = "SignUploadsAndCheckThem"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arns["inputs"]}/*"]
  }

  statement {
    sid       = "SignDownloads"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["results"]}/*"]
  }

  statement {
    sid       = "MissingKeysAnswer404"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["inputs"], var.bucket_arns["results"]]
  }

  statement {
    sid     = "Jobs"
    actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [
      var.table_arns["annotations"],
      "${var.table_arns["annotations"]}/index/*",
    ]
  }

  # DeleteItem: a successful login clears its throttle item. DescribeTable: the health check.
  statement {
    sid = "Users"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
    ]
    resources = [var.table_arns["users"]]
  }

  statement {
    sid       = "Publish"
    actions   = ["sns:Publish"]
    resources = [var.topic_arns["job-requests"], var.topic_arns["restore"]]
  }

  # Cancelling Premium queues the user's results for archiving after the retention delay.
  statement {
    sid       = "DowngradeArchive"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
    resources = [var.queue_arns["archive"]]
  }

  statement {
    sid       = "EncryptedTopics"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.topic_kms_key_arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParameter"]
    resources = values(var.parameter_arns)
  }
}

################################################################################
# annotator: job-requests in, results out
################################################################################

data "aws_iam_policy_document" "annotator" {
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = [local.artifact_arn]
  }

  statement {
    sid       = "Inputs"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["inputs"]}/*"]
  }

  statement {
    sid       = "Results"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["results"]}/*"]
  }

  statement {
    sid       = "MissingKeysAnswer404"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["inputs"]]
  }

  statement {
    sid       = "Jobs"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.table_arns["annotations"]]
  }

  statement {
    sid       = "JobRequests"
    actions   = local.consume
    resources = [var.queue_arns["job-requests"]]
  }

  statement {
    sid       = "JobRequestsDeadLetters"
    actions   = ["sqs:GetQueueUrl"]
    resources = [var.dead_letter_queue_arns["job-requests"]]
  }

  statement {
    sid       = "Publish"
    actions   = ["sns:Publish"]
    resources = [var.topic_arns["job-results"]]
  }

  statement {
    sid       = "EncryptedTopics"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.topic_kms_key_arn]
  }
}

################################################################################
# workers: notifier, dead-letters, archiver, restorer, thawer (and the backlog metric)
################################################################################

data "aws_iam_policy_document" "workers" {
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = [local.artifact_arn]
  }

  statement {
    sid = "Results"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:RestoreObject",
    ]
    resources = ["${var.bucket_arns["results"]}/*"]
  }

  statement {
    sid       = "MissingKeysAnswer404"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["results"]]
  }

  statement {
    sid     = "Jobs"
    actions = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [
      var.table_arns["annotations"],
      "${var.table_arns["annotations"]}/index/*",
    ]
  }

  statement {
    sid       = "Users"
    actions   = ["dynamodb:GetItem"]
    resources = [var.table_arns["users"]]
  }

  statement {
    sid     = "Queues"
    actions = local.consume
    resources = [
      var.queue_arns["job-results"],
      var.queue_arns["archive"],
      var.queue_arns["restore"],
      var.queue_arns["thaw"],
      var.dead_letter_queue_arns["job-requests"],
    ]
  }

  # Delayed thaw checks, and the archiver expanding a downgrade into per-job messages.
  statement {
    sid       = "QueueOwnWork"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arns["thaw"], var.queue_arns["archive"]]
  }

  # dead-letters announces job.failed; the archiver requests a restore for a user who
  # upgraded while it archived.
  statement {
    sid       = "Publish"
    actions   = ["sns:Publish"]
    resources = [var.topic_arns["job-results"], var.topic_arns["restore"]]
  }

  statement {
    sid       = "EncryptedTopics"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.topic_kms_key_arn]
  }

  statement {
    sid       = "Mail"
    actions   = ["ses:SendEmail"]
    resources = [var.ses_identity_arn]
  }

  dynamic "statement" {
    for_each = var.vault_arn == null ? [] : [var.vault_arn]

    content {
      sid = "Vault"
      actions = [
        "glacier:UploadArchive",
        "glacier:InitiateJob",
        "glacier:DescribeJob",
        "glacier:GetJobOutput",
        "glacier:DeleteArchive",
      ]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "BacklogQueue"
    actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = [var.queue_arns["job-requests"]]
  }

  # Describe calls and PutMetricData have no resource-level permissions;
  # the metric is confined to its namespace.
  statement {
    sid       = "BacklogGroupSize"
    actions   = ["autoscaling:DescribeAutoScalingGroups"]
    resources = ["*"]
  }

  statement {
    sid       = "BacklogMetric"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metric_namespace]
    }
  }
}
