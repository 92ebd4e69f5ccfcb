"""The offline schema provider: Terraform's own validate and plan catch what a real provider would.

Each case is a small configuration run through the same init/validate/plan as terraform/envs/*.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.offline import check, schema

pytestmark = pytest.mark.slow

_VERSIONS = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.62"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}
"""
_LOCK = """provider "registry.terraform.io/hashicorp/aws" {
  version     = "%s"
  constraints = "~> 6.62"
}
"""
_GOOD = """data "aws_availability_zones" "available" {}

resource "aws_s3_bucket" "this" {
  count         = 2
  bucket        = "demo-${count.index}"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = { for i, b in aws_s3_bucket.this : i => b.id }
  bucket   = each.value
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this[0].id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 7
    }
  }
}

output "zones" {
  value = slice(data.aws_availability_zones.available.names, 0, 2)
}

output "arn" {
  value = aws_s3_bucket.this[0].arn
}
"""
_WRONG = """resource "aws_s3_bucket" "this" {
  bukket        = "demo"
  force_destroy = { yes = true }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = "demo"
}

resource "aws_sqs_queue" "this" {
  name = "demo"
  redrive_policy {
    maxReceiveCount = 3
  }
}
"""
_UNDEFINED = """resource "aws_s3_bucket" "this" {
  bucket = "demo"
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.no_such_attribute
}
"""
_CYCLE = """resource "aws_sqs_queue" "a" {
  name = aws_sqs_queue.b.name
}

resource "aws_sqs_queue" "b" {
  name = aws_sqs_queue.a.name
}
"""


def _tree(root: Path, main: str, version: str = schema.PROVIDER_VERSION) -> Path:
    env = root / "source" / "envs" / "demo"
    env.mkdir(parents=True)
    (env / "versions.tf").write_text(_VERSIONS)
    (env / "main.tf").write_text(main)
    (env / ".terraform.lock.hcl").write_text(_LOCK % version)
    return root / "source"


def _run(tmp_path: Path, main: str, version: str = schema.PROVIDER_VERSION) -> str:
    source = _tree(tmp_path, main, version)
    work = tmp_path / "work"
    work.mkdir()
    return check.check("demo", work, source)


def test_a_correct_configuration_validates_and_plans_with_computed_values_unknown(
    tmp_path: Path,
) -> None:
    plan = _run(tmp_path, _GOOD)
    assert "Plan: 5 to add, 0 to change, 0 to destroy." in plan
    assert 'aws_s3_bucket_versioning.this["1"] will be created' in plan
    assert re.search(r'\+ bucket += "demo-1"', plan)
    assert re.search(r"\+ arn += \(known after apply\)", plan)
    assert 'zones = [\n      + "placeholder-names-0",' in plan


def test_wrong_names_types_references_and_blocks_fail_validate(tmp_path: Path) -> None:
    with pytest.raises(check.CheckFailed) as failed:
        _run(tmp_path, _WRONG)
    message = str(failed.value)
    assert "terraform validate" in message
    assert 'An argument named "bukket" is not expected here' in message
    assert 'Inappropriate value for attribute "force_destroy"' in message
    assert 'Blocks of type "redrive_policy" are not expected here' in message
    assert "Insufficient versioning_configuration blocks" in message


def test_an_undefined_attribute_fails_validate(tmp_path: Path) -> None:
    with pytest.raises(check.CheckFailed) as failed:
        _run(tmp_path, _UNDEFINED)
    message = " ".join(str(failed.value).split())
    assert 'no argument, nested block, or exported attribute named "no_such_attribute"' in message


def test_a_reference_cycle_fails(tmp_path: Path) -> None:
    with pytest.raises(check.CheckFailed, match="Cycle: "):
        _run(tmp_path, _CYCLE)


def test_a_lock_file_for_another_provider_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(check.CheckFailed, match=r"locks hashicorp/aws 6\.0\.0"):
        _run(tmp_path, _GOOD, version="6.0.0")
