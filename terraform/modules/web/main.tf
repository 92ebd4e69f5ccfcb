# The web tier: an internet-facing ALB (HTTP, plus HTTPS when a certificate ARN
# is given), a target group with a health check, and an auto scaling group
# whose instances run the Bottle app as a systemd service.

locals {
  https = var.certificate_arn != null
  url   = var.url != null ? var.url : "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:Access logs need a log bucket with an ELB-writable policy; enable with access_logs where an audit requires it.
  #checkov:skip=CKV2_AWS_20:Plain HTTP only until a certificate ARN is given; then the HTTP listener redirects to HTTPS.
  #checkov:skip=CKV2_AWS_28:A WAF web ACL costs per rule and month; attach one (aws_wafv2_web_acl_association) in front of a public launch.
  # Load balancer names have at most 32 characters: the prefix is cut to leave room for "-web".
  name                       = "${substr(var.name_prefix, 0, 28)}-web"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [var.alb_security_group_id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the app listens on plain HTTP inside private subnets, reachable only from the load balancer's security group.
  # A generated name (at most 6 characters of prefix), so a replacement can exist beside the old
  # group until the listeners move to it.
  name_prefix          = substr(var.name_prefix, 0, 6)
  port                 = var.port
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = var.health_check_path
    matcher             = "200"
    interval            = 30
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# HTTP forwards to the app when there is no certificate, else redirects to HTTPS.
resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Plain HTTP only until a certificate ARN is given; then this listener redirects to HTTPS.
  #checkov:skip=CKV2_AWS_20:Plain HTTP only until a certificate ARN is given; then this listener redirects to HTTPS.
  #checkov:skip=CKV_AWS_103:TLS policy applies to the HTTPS listener below; this one is plain HTTP or a redirect.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [443] : []

      content {
        port        = tostring(redirect.value)
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

module "instances" {
  source = "../tier"

  name_prefix = var.name_prefix
  tier        = "web"
  # gunicorn, chosen over waitress by scripts/bench_web.py (docs/web-server.md):
  # a worker per core, crashed or hung workers replaced by its master.
  units = [{
    name   = "web"
    module = "gunicorn"
    args   = "--bind 0.0.0.0:${var.port} --workers ${var.workers} --access-logfile - gas.web.wsgi:app"
  }]
  environment          = merge(var.environment, { GAS_WEB_URL = local.url })
  secret_parameters    = var.secret_parameters
  artifact_bucket      = var.artifact_bucket
  artifact_key         = var.artifact_key
  image_id             = var.image_id
  instance_type        = var.instance_type
  instance_profile_arn = var.instance_profile_arn
  security_group_ids   = [var.security_group_id]
  subnet_ids           = var.private_subnet_ids
  target_group_arns    = [aws_lb_target_group.this.arn]
  min_size             = var.min_size
  max_size             = var.max_size
  desired_capacity     = var.min_size

  tags = var.tags
}
