# GAS on AWS: every module, wired together. `make deploy` applies this and
# writes the app's settings from `terraform output -json settings`.

locals {
  # Instances and volumes are tagged through launch templates and groups, which the
  # provider's default_tags do not reach: every tier gets the same tags explicitly.
  tags = merge(var.tags, {
    Project   = "gas"
    Stack     = var.name_prefix
    ManagedBy = "terraform"
  })

  # What gas/core/settings.py reads (GAS_WEB_URL is added per tier; STRIPE_API_KEY comes from SSM).
  environment = {
    AWS_REGION                 = var.region
    GAS_STACK                  = var.name_prefix
    GAS_FREE_RETENTION_SECONDS = tostring(var.free_retention_seconds)
    GAS_JOB_VISIBILITY_SECONDS = tostring(var.job_visibility_seconds)
    GAS_MAIL_SENDER            = var.mail_sender
    GAS_COLD_STORAGE           = var.archive_backend
  }
}

module "network" {
  source = "../../modules/network"

  name_prefix        = var.name_prefix
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
}

module "storage" {
  source = "../../modules/storage"

  name_prefix          = var.name_prefix
  cors_allowed_origins = [module.web.url]
  force_destroy        = var.force_destroy
}

module "data" {
  source = "../../modules/data"

  name_prefix         = var.name_prefix
  deletion_protection = var.deletion_protection
}

module "messaging" {
  source = "../../modules/messaging"

  name_prefix            = var.name_prefix
  free_retention_seconds = var.free_retention_seconds
  job_visibility_seconds = var.job_visibility_seconds
  alarm_actions          = var.dead_letter_alarm_actions
}

module "archive" {
  source = "../../modules/archive"

  create         = var.archive_backend == "vault"
  name_prefix    = var.name_prefix
  thaw_topic_arn = module.messaging.topic_arns["thaw"]
}

module "mail" {
  source = "../../modules/mail"

  mail_sender = var.mail_sender
}

module "secrets" {
  source = "../../modules/secrets"

  name_prefix = var.name_prefix
}

module "iam" {
  source = "../../modules/iam"

  name_prefix            = var.name_prefix
  artifact_bucket        = var.artifact_bucket
  artifact_key           = var.artifact_key
  bucket_arns            = module.storage.bucket_arns
  table_arns             = module.data.table_arns
  topic_arns             = module.messaging.topic_arns
  topic_kms_key_arn      = module.messaging.kms_key_arn
  queue_arns             = module.messaging.queue_arns
  dead_letter_queue_arns = module.messaging.dead_letter_queue_arns
  ses_identity_arn       = module.mail.identity_arn
  parameter_arns         = module.secrets.parameter_arns
  vault_arn              = module.archive.vault_arn
}

module "web" {
  source = "../../modules/web"

  name_prefix           = var.name_prefix
  vpc_id                = module.network.vpc_id
  public_subnet_ids     = module.network.public_subnet_ids
  private_subnet_ids    = module.network.private_subnet_ids
  alb_security_group_id = module.network.security_group_ids["alb"]
  security_group_id     = module.network.security_group_ids["web"]
  certificate_arn       = var.certificate_arn
  url                   = var.web_url
  deletion_protection   = var.deletion_protection
  environment           = local.environment
  secret_parameters = {
    STRIPE_API_KEY         = module.secrets.parameter_names["stripe/secret-key"]
    STRIPE_PUBLISHABLE_KEY = module.secrets.parameter_names["stripe/publishable-key"]
    STRIPE_WEBHOOK_SECRET  = module.secrets.parameter_names["stripe/webhook-secret"]
    GAS_SESSION_SECRET     = module.secrets.parameter_names["session-secret"]
  }
  artifact_bucket      = var.artifact_bucket
  artifact_key         = var.artifact_key
  image_id             = var.image_id
  instance_type        = var.web_instance_type
  instance_profile_arn = module.iam.instance_profile_arns["web"]
  min_size             = var.web_min_size
  max_size             = var.web_max_size

  tags = local.tags
}

module "annotator" {
  source = "../../modules/annotator"

  name_prefix          = var.name_prefix
  environment          = merge(local.environment, { GAS_WEB_URL = module.web.url })
  artifact_bucket      = var.artifact_bucket
  artifact_key         = var.artifact_key
  image_id             = var.image_id
  instance_type        = var.annotator_instance_type
  instance_profile_arn = module.iam.instance_profile_arns["annotator"]
  security_group_id    = module.network.security_group_ids["annotator"]
  subnet_ids           = module.network.private_subnet_ids
  min_size             = var.annotator_min_size
  max_size             = var.annotator_max_size

  tags = local.tags
}

module "workers" {
  source = "../../modules/workers"

  name_prefix            = var.name_prefix
  publish_backlog_metric = var.annotator_scaling == "backlog"
  environment            = merge(local.environment, { GAS_WEB_URL = module.web.url })
  artifact_bucket        = var.artifact_bucket
  artifact_key           = var.artifact_key
  image_id               = var.image_id
  instance_profile_arn   = module.iam.instance_profile_arns["workers"]
  security_group_id      = module.network.security_group_ids["workers"]
  subnet_ids             = module.network.private_subnet_ids

  tags = local.tags
}

module "scaling" {
  source = "../../modules/scaling"

  name_prefix                      = var.name_prefix
  web_autoscaling_group_name       = module.web.autoscaling_group_name
  alb_arn_suffix                   = module.web.alb_arn_suffix
  annotator_autoscaling_group_name = module.annotator.autoscaling_group_name
  job_requests_queue_name          = module.messaging.queue_names["job-requests"]
  annotator_scaling                = var.annotator_scaling
}
