"""Object keys: safe file names, parsing, and result names that match anntools'."""

from __future__ import annotations

import uuid

import pytest

from anntools.output import result_names
from gas.core.keys import (
    BadKey,
    looks_like_job_id,
    new_input_key,
    parse_input_key,
    result_key_names,
    safe_file_name,
)

JOB_ID = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("sample.vcf", "sample.vcf"),
        ("My Sample (1).vcf.gz", "My_Sample_1_.vcf.gz"),
        ("C:\\Users\\me\\x.vcf", "x.vcf"),
        ("../../etc/passwd", "passwd"),
        ("génome.vcf", "genome.vcf"),
        ("a~b.vcf", "a_b.vcf"),
    ],
)
def test_file_names_are_reduced_to_a_safe_basename(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe


@pytest.mark.parametrize("given", ["", "   ", "..", "dir/", ".hidden.vcf", "???", "x" * 201])
def test_odd_file_names_are_refused(given: str) -> None:
    with pytest.raises(BadKey):
        safe_file_name(given)


def test_a_new_key_parses_back_into_its_parts() -> None:
    made = new_input_key("alice", "s.vcf")
    assert made.key == f"alice/{made.job_id}~s.vcf"
    assert uuid.UUID(made.job_id).version == 4
    assert parse_input_key(made.key) == made


def test_new_key_refuses_a_user_id_with_a_slash() -> None:
    with pytest.raises(BadKey):
        new_input_key("alice/bob", "s.vcf")


@pytest.mark.parametrize(
    "key",
    [
        "alice/s.vcf",
        f"alice/{JOB_ID}s.vcf",
        f"alice/bob/{JOB_ID}~s.vcf",
        f"alice/{JOB_ID}~../s.vcf",
        f"alice/{JOB_ID}~.s.vcf",
        f"alice/{JOB_ID.upper()}~s.vcf",
        f"alice/{uuid.uuid1()}~s.vcf",
        f"/{JOB_ID}~s.vcf",
    ],
)
def test_keys_that_are_not_ours_are_refused(key: str) -> None:
    with pytest.raises(BadKey):
        parse_input_key(key)


@pytest.mark.parametrize("file_name", ["s.vcf", "s.vcf.gz", "s.bgz", "s.txt"])
def test_result_keys_use_the_names_anntools_writes(file_name: str) -> None:
    key = parse_input_key(f"alice/{JOB_ID}~{file_name}")
    keys = result_key_names(key)
    assert {kind: k.split("~", 1)[1] for kind, k in keys.items()} == result_names(file_name)
    assert all(k.startswith(f"alice/{JOB_ID}~") for k in keys.values())


@pytest.mark.parametrize(
    ("given", "looks"),
    [(JOB_ID, True), (JOB_ID.upper(), False), (JOB_ID[:-1], False), ("../" + JOB_ID[3:], False)],
)
def test_only_job_id_shaped_strings_are_looked_up(given: str, looks: bool) -> None:
    assert looks_like_job_id(given) is looks
