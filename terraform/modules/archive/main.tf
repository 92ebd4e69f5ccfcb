# The Amazon Glacier vault (`vault` archive backend), named as in gas/local/bootstrap.py,
# telling the thaw topic when a retrieval job completes.
# Amazon Glacier stopped taking new customers on 2025-12-15: new accounts use `s3-glacier`.

data "aws_caller_identity" "current" {}

resource "aws_glacier_vault" "this" {
  count = var.create ? 1 : 0

  name = "${var.name_prefix}-archive"

  notification {
    sns_topic = var.thaw_topic_arn
    events    = ["ArchiveRetrievalCompleted"]
  }

  tags = var.tags
}

data "aws_iam_policy_document" "thaw_topic" {
  count = var.create ? 1 : 0

  statement {
    sid       = "GlacierPublishesRetrievals"
    actions   = ["sns:Publish"]
    resources = [var.thaw_topic_arn]

    principals {
      type        = "Service"
      identifiers = ["glacier.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "thaw" {
  count = var.create ? 1 : 0

  arn    = var.thaw_topic_arn
  policy = data.aws_iam_policy_document.thaw_topic[0].json
}
