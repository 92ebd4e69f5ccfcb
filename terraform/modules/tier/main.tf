# One tier of GAS hosts: a launch template whose user_data installs the release
# and starts the tier's systemd units, and the auto scaling group running it.
# The web, annotator and workers modules are compositions of this one.

data "aws_region" "current" {}

locals {
  name = "${var.name_prefix}-${var.tier}"

  user_data = templatefile("${path.module}/templates/user_data.sh.tftpl", {
    tier            = var.tier
    region          = data.aws_region.current.region
    artifact_bucket = var.artifact_bucket
    artifact_key    = var.artifact_key
    environment     = var.environment
    secrets         = var.secret_parameters
    units           = var.units
    log_group       = aws_cloudwatch_log_group.this.name
  })
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted with CloudWatch Logs' own key; the logs carry job ids and e-mail addresses' hashes, not secrets, and a customer managed key adds cost and a key policy to keep.
  name              = "/${var.name_prefix}/${var.tier}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${local.name}-"
  description            = "GAS ${var.tier} tier"
  image_id               = var.image_id
  instance_type          = var.instance_type
  vpc_security_group_ids = var.security_group_ids
  user_data              = base64encode(local.user_data)
  update_default_version = true

  iam_instance_profile {
    arn = var.instance_profile_arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = local.name, Tier = var.tier })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = local.name, Tier = var.tier })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  name                      = local.name
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  vpc_zone_identifier       = var.subnet_ids
  target_group_arns         = var.target_group_arns
  health_check_type         = length(var.target_group_arns) > 0 ? "ELB" : "EC2"
  health_check_grace_period = var.health_check_grace_period
  default_cooldown          = var.default_cooldown
  wait_for_capacity_timeout = "0"

  # GroupInServiceInstances is the denominator of the annotators' backlog per instance.
  enabled_metrics = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupMinSize", "GroupMaxSize"]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = local.name, Tier = var.tier })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies move the desired capacity; Terraform must not undo them.
    ignore_changes = [desired_capacity]
  }
}
