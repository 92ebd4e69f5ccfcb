# A VPC with public subnets (load balancer, NAT) and private subnets (every
# instance) across at least two AZs; S3 and DynamoDB gateway endpoints; one
# security group per tier.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first az_count zones, in name order, are used (slice below); a zone AWS adds later does not move the subnets.
  state = "available"
}

data "aws_region" "current" {}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  public_subnets  = { for index, az in local.azs : az => cidrsubnet(var.cidr, 8, index) }
  private_subnets = { for index, az in local.azs : az => cidrsubnet(var.cidr, 8, index + 100) }

  nat_azs = var.single_nat_gateway ? [local.azs[0]] : local.azs
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:Flow logs cost per GB and need a log group and a role; no tier accepts inbound traffic but the ALB's. Add aws_flow_log where an audit requires it.
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name_prefix })
}

# The default security group allows nothing; every tier has its own.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name_prefix}-default-closed" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name_prefix })
}

################################################################################
# Subnets and routes
################################################################################

resource "aws_subnet" "public" {
  for_each = local.public_subnets

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, { Name = "${var.name_prefix}-public-${each.key}", Tier = "public" })
}

resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, { Name = "${var.name_prefix}-private-${each.key}", Tier = "private" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-public" })
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name_prefix}-nat-${each.key}" })
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  for_each = aws_subnet.private

  vpc_id = aws_vpc.this.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[var.single_nat_gateway ? local.azs[0] : each.key].id
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-private-${each.key}" })
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

################################################################################
# Gateway endpoints: S3 and DynamoDB traffic stays off the NAT gateway
################################################################################

resource "aws_vpc_endpoint" "this" {
  for_each = toset(["s3", "dynamodb"])

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for table in aws_route_table.private : table.id]

  tags = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })
}

################################################################################
# Security groups: internet -> ALB -> web; everything else only calls out (HTTPS)
################################################################################

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules (web load balancer, the tiers' launch templates), which this graph check cannot follow through module outputs.
  for_each = toset(["alb", "web", "annotator", "workers"])

  # A prefix, not a name: create_before_destroy makes the new group while the old one exists.
  name_prefix = "${var.name_prefix}-${each.key}-"
  description = "GAS ${each.key} tier"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = toset([for port in var.alb_listener_ports : tostring(port)])

  #checkov:skip=CKV_AWS_260:The load balancer is the public entry point: browsers reach it on 80 (redirected to 443 when a certificate is given).
  security_group_id = aws_security_group.this["alb"].id
  description       = "Browsers to the load balancer"
  cidr_ipv4         = var.alb_ingress_cidr
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
}

resource "aws_vpc_security_group_egress_rule" "alb_to_web" {
  security_group_id            = aws_security_group.this["alb"].id
  description                  = "Load balancer to the web instances"
  referenced_security_group_id = aws_security_group.this["web"].id
  ip_protocol                  = "tcp"
  from_port                    = var.web_port
  to_port                      = var.web_port
}

resource "aws_vpc_security_group_ingress_rule" "web_from_alb" {
  security_group_id            = aws_security_group.this["web"].id
  description                  = "Only the load balancer reaches the web app"
  referenced_security_group_id = aws_security_group.this["alb"].id
  ip_protocol                  = "tcp"
  from_port                    = var.web_port
  to_port                      = var.web_port
}

# Instances call AWS APIs, Stripe and the OS package mirrors, all over HTTPS.
resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = toset(["web", "annotator", "workers"])

  security_group_id = aws_security_group.this[each.key].id
  description       = "HTTPS to AWS APIs, Stripe and package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
