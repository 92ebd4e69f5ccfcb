# SNS topics, SQS work queues with their dead-letter queues, and the subscriptions.
# Names and attributes match gas/core/topology.py and gas/local/bootstrap.py (tests/terraform checks).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  topics = ["job-requests", "job-results", "restore", "thaw"]

  queues = {
    "job-requests" = {
      visibility_timeout_seconds = var.job_visibility_seconds
      delay_seconds              = 0
    }
    "job-results" = {
      visibility_timeout_seconds = var.queue_visibility_seconds
      delay_seconds              = 0
    }
    "archive" = {
      visibility_timeout_seconds = var.queue_visibility_seconds
      delay_seconds              = var.free_retention_seconds
    }
    "restore" = {
      visibility_timeout_seconds = var.queue_visibility_seconds
      delay_seconds              = 0
    }
    "thaw" = {
      visibility_timeout_seconds = var.queue_visibility_seconds
      delay_seconds              = 0
    }
  }

  # topic => queue; the archive queue listens to job-results too (docs/architecture.md's data flow).
  subscriptions = {
    "job-requests:job-requests" = { topic = "job-requests", queue = "job-requests" }
    "job-results:job-results"   = { topic = "job-results", queue = "job-results" }
    "job-results:archive"       = { topic = "job-results", queue = "archive" }
    "restore:restore"           = { topic = "restore", queue = "restore" }
    "thaw:thaw"                 = { topic = "thaw", queue = "thaw" }
  }

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

################################################################################
# Encryption key for the topics (SNS needs a customer managed key that the
# services publishing to a topic, Glacier and CloudWatch among them, may use)
################################################################################

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the root statement is AWS's default key policy, without which the key becomes unmanageable.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone; services are confined by aws:SourceAccount.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone (key policies cannot name other resources).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesPublishToEncryptedTopics"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "Service"
      identifiers = ["glacier.amazonaws.com", "cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: SNS topic encryption"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-topics"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# Topics
################################################################################

resource "aws_sns_topic" "this" {
  for_each = toset(local.topics)

  name              = "${var.name_prefix}-${each.key}"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

################################################################################
# Queues
################################################################################

resource "aws_sqs_queue" "dead_letters" {
  for_each = local.queues

  name                      = "${var.name_prefix}-${each.key}-dlq"
  message_retention_seconds = var.dead_letter_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  for_each = local.queues

  name                       = "${var.name_prefix}-${each.key}"
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  delay_seconds              = each.value.delay_seconds
  receive_wait_time_seconds  = var.receive_wait_time_seconds
  message_retention_seconds  = var.message_retention_seconds
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# A dead-letter queue takes messages from its own work queue only.
resource "aws_sqs_queue_redrive_allow_policy" "dead_letters" {
  for_each = var.restrict_dead_letter_sources ? local.queues : {}

  queue_url = aws_sqs_queue.dead_letters[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

# Each queue accepts messages only from the topics subscribed to it.
data "aws_iam_policy_document" "queues" {
  for_each = local.queues

  dynamic "statement" {
    for_each = [for subscription in local.subscriptions : subscription.topic if subscription.queue == each.key]

    content {
      sid       = "from-${var.name_prefix}-${statement.value}"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this[each.key].arn]

      principals {
        type        = "Service"
        identifiers = ["sns.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [aws_sns_topic.this[statement.value].arn]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each = local.queues

  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.queues[each.key].json
}

################################################################################
# Subscriptions
################################################################################

resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn = aws_sns_topic.this[each.value.topic].arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.this[each.value.queue].arn

  # The handlers unwrap the SNS envelope themselves (gas/core/messages.py), as in the emulator.
  raw_message_delivery = false

  depends_on = [aws_sqs_queue_policy.this]
}

################################################################################
# Dead-letter alarms: a message in any dead-letter queue means work that failed
# every attempt (only job-requests' has a handler, which fails the job); each
# alarms as soon as one message waits, and tells alarm_actions.
################################################################################

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = local.queues

  alarm_name          = "${var.name_prefix}-${each.key}-dlq-not-empty"
  alarm_description   = "A ${each.key} message failed ${var.max_receive_count} times and waits in ${aws_sqs_queue.dead_letters[each.key].name}; see docs/operations.md"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}
