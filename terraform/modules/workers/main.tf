# The small workers tier: notifier, dead-letters, archiver, restorer and thawer (and, when the
# annotators scale on backlog per instance, the metric publisher) on a group of
# one, so a failed instance is replaced.

locals {
  handlers = concat(
    ["notifier", "dead_letters", "archiver", "restorer", "thawer"],
    var.publish_backlog_metric ? ["backlog"] : [],
  )
}

module "instances" {
  source = "../tier"

  name_prefix = var.name_prefix
  tier        = "workers"
  units = [for handler in local.handlers : {
    name   = handler
    module = "gas.workers.${handler}"
    args   = ""
  }]
  environment          = var.environment
  artifact_bucket      = var.artifact_bucket
  artifact_key         = var.artifact_key
  image_id             = var.image_id
  instance_type        = var.instance_type
  instance_profile_arn = var.instance_profile_arn
  security_group_ids   = [var.security_group_id]
  subnet_ids           = var.subnet_ids
  min_size             = var.size
  max_size             = var.size
  desired_capacity     = var.size

  tags = var.tags
}
