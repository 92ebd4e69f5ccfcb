# GAS's data plane in a local emulator, from the same modules as envs/aws:
# the resources gas/local/bootstrap.py creates. The instance tiers (network,
# web, annotator, workers, scaling, iam) are not composed here: on one machine
# `gas run` runs the same processes directly. See docs/deploy.md for what the
# emulators cannot create and the switches below.

module "storage" {
  source = "../../modules/storage"

  name_prefix          = var.name_prefix
  cors_allowed_origins = [var.web_url]
  force_destroy        = true
}

module "data" {
  source = "../../modules/data"

  name_prefix         = var.name_prefix
  deletion_protection = false
}

module "messaging" {
  source = "../../modules/messaging"

  name_prefix            = var.name_prefix
  free_retention_seconds = var.free_retention_seconds
  job_visibility_seconds = var.job_visibility_seconds

  # moto drops RedriveAllowPolicy, so the provider would wait for it forever.
  restrict_dead_letter_sources = false
}

# moto has no SetVaultNotifications or vault tags, and LocalStack's Glacier
# needs a paid token: the vault is off here (the emulator bootstrap creates it).
module "archive" {
  source = "../../modules/archive"

  create         = false
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
