# The annotator tier: an auto scaling group (2 to 10 by default) whose
# instances run `python -m gas.workers.annotator` on the job-requests queue,
# annotating with the bundle the release carries (ANNTOOLS_BUNDLE_DIR).

module "instances" {
  source = "../tier"

  name_prefix = var.name_prefix
  tier        = "annotator"
  units = [for index in range(var.workers_per_instance) : {
    name   = "annotator-${index}"
    module = "gas.workers.annotator"
    args   = ""
  }]
  # user_data unpacks the release's bundle/ here; anntools looks nowhere else on an instance.
  environment          = merge(var.environment, { ANNTOOLS_BUNDLE_DIR = "/opt/gas/bundle" })
  artifact_bucket      = var.artifact_bucket
  artifact_key         = var.artifact_key
  image_id             = var.image_id
  instance_type        = var.instance_type
  root_volume_size     = var.root_volume_size
  instance_profile_arn = var.instance_profile_arn
  security_group_ids   = [var.security_group_id]
  subnet_ids           = var.subnet_ids
  min_size             = var.min_size
  max_size             = var.max_size
  desired_capacity     = var.min_size

  tags = var.tags
}
