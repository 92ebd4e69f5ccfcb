"""The two cold-storage backends against fake clients: tiers, fall-back, retrieval states."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from gas.services.cold_storage import (
    CHECKSUM_METADATA,
    S3_GLACIER,
    VAULT,
    RetrievalState,
    S3GlacierStorage,
    VaultStorage,
    cold_storage,
)


class ClientError(Exception):
    """Shaped like botocore's: ``response['Error']['Code']``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeGlacier:
    def __init__(self, refuse: set[str] | None = None, job: dict[str, Any] | None = None) -> None:
        self.refuse = refuse or set()
        self.job = job or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def initiate_job(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("initiate_job", request))
        if request["jobParameters"]["Tier"] in self.refuse:
            raise ClientError("InsufficientCapacityException")
        return {"jobId": "job-" + request["jobParameters"]["Tier"]}

    def describe_job(self, **request: Any) -> dict[str, Any]:
        if not self.job:
            raise ClientError("ResourceNotFoundException")
        return self.job

    def delete_archive(self, **request: Any) -> None:
        self.calls.append(("delete_archive", request))
        raise ClientError("ResourceNotFoundException")


class FakeS3:
    def __init__(self, head: dict[str, Any], body: bytes = b"", refuse: set[str] | None = None):
        self.head = head
        self.body = body
        self.refuse = refuse or set()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def head_object(self, **request: Any) -> dict[str, Any]:
        return self.head

    def get_object(self, **request: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.body)}

    def copy_object(self, **request: Any) -> None:
        self.calls.append(("copy_object", request))

    def restore_object(self, **request: Any) -> None:
        self.calls.append(("restore_object", request))
        tier = request["RestoreRequest"]["GlacierJobParameters"]["Tier"]
        if tier in self.refuse:
            raise ClientError(
                "GlacierExpeditedRetrievalNotAvailable"
                if tier == "Expedited"
                else "RestoreAlreadyInProgress"
            )


def test_the_vault_falls_back_to_standard_without_expedited_capacity() -> None:
    glacier = FakeGlacier(refuse={"Expedited"})
    vault = VaultStorage(glacier, None, "gas-archive", "arn:thaw")
    assert vault.start_retrieval("b", "k", "archive-1", "job-1") == "job-Standard"
    tiers = [call[1]["jobParameters"]["Tier"] for call in glacier.calls]
    assert tiers == ["Expedited", "Standard"]
    parameters = glacier.calls[-1][1]["jobParameters"]
    assert parameters["SNSTopic"] == "arn:thaw"
    assert parameters["Description"] == "job-1"
    assert parameters["Type"] == "archive-retrieval"


def test_standard_refused_is_an_error() -> None:
    glacier = FakeGlacier(refuse={"Expedited", "Standard"})
    with pytest.raises(ClientError):
        VaultStorage(glacier, None, "v", None).start_retrieval("b", "k", "a", "j")


@pytest.mark.parametrize(
    ("job", "state"),
    [
        ({}, RetrievalState.GONE),
        ({"StatusCode": "InProgress", "Completed": False}, RetrievalState.RUNNING),
        ({"StatusCode": "Succeeded", "Completed": True}, RetrievalState.READY),
        ({"StatusCode": "Failed", "Completed": True}, RetrievalState.GONE),
    ],
)
def test_vault_retrieval_states(job: dict[str, Any], state: RetrievalState) -> None:
    vault = VaultStorage(FakeGlacier(job=job), None, "v", None)
    assert vault.retrieval_state("b", "k", "a", "job-1") == state
    assert vault.retrieval_state("b", "k", "a", None) == RetrievalState.GONE


def test_deleting_a_deleted_vault_archive_is_fine() -> None:
    VaultStorage(FakeGlacier(), None, "v", None).delete("b", "k", "a")


def test_s3_falls_back_to_standard_and_accepts_a_restore_in_progress() -> None:
    s3 = FakeS3({"StorageClass": "GLACIER"}, refuse={"Expedited"})
    assert S3GlacierStorage(s3).start_retrieval("b", "k", "k", "j") == "Standard"
    assert [c[1]["RestoreRequest"]["GlacierJobParameters"]["Tier"] for c in s3.calls] == [
        "Expedited",
        "Standard",
    ]
    busy = FakeS3({"StorageClass": "GLACIER"}, refuse={"Standard"})
    assert S3GlacierStorage(busy, tier="Standard").start_retrieval("b", "k", "k", "j") == "Standard"


@pytest.mark.parametrize(
    ("head", "state"),
    [
        ({"StorageClass": "GLACIER"}, RetrievalState.GONE),
        ({"StorageClass": "GLACIER", "Restore": 'ongoing-request="true"'}, RetrievalState.RUNNING),
        (
            {
                "StorageClass": "GLACIER",
                "Restore": 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
            },
            RetrievalState.READY,
        ),
        ({}, RetrievalState.READY),  # STANDARD already: thawed by an earlier delivery
    ],
)
def test_s3_retrieval_states_come_from_the_restore_header(
    head: dict[str, Any], state: RetrievalState
) -> None:
    assert S3GlacierStorage(FakeS3(head)).retrieval_state("b", "k", "k", "Expedited") == state


def test_s3_freeze_copies_in_place_with_the_checksum_in_metadata() -> None:
    s3 = FakeS3({"ContentType": "text/plain", "Metadata": {"a": "1"}}, body=b"results\n")
    frozen = S3GlacierStorage(s3).freeze("b", "u/j~x.annot.vcf")
    assert frozen.archive_id == "u/j~x.annot.vcf"
    assert frozen.sha256 == hashlib.sha256(b"results\n").hexdigest()
    [(name, request)] = s3.calls
    assert name == "copy_object"
    assert request["StorageClass"] == "GLACIER"
    assert request["CopySource"] == {"Bucket": "b", "Key": "u/j~x.annot.vcf"}
    assert request["Metadata"] == {"a": "1", CHECKSUM_METADATA: frozen.sha256}
    assert request["ContentType"] == "text/plain"


def test_s3_freeze_again_reads_the_recorded_checksum() -> None:
    s3 = FakeS3({"StorageClass": "GLACIER", "Metadata": {CHECKSUM_METADATA: "abc"}})
    assert S3GlacierStorage(s3).freeze("b", "k").sha256 == "abc"
    assert s3.calls == []


def test_s3_thaw_copies_back_to_standard_once() -> None:
    s3 = FakeS3({"StorageClass": "GLACIER", "Metadata": {CHECKSUM_METADATA: "abc"}})
    S3GlacierStorage(s3).thaw("b", "k", "k", "Expedited")
    [(_, request)] = s3.calls
    assert request["StorageClass"] == "STANDARD"
    done = FakeS3({"Metadata": {}})
    S3GlacierStorage(done).thaw("b", "k", "k", "Expedited")
    assert done.calls == []


def test_the_backend_is_chosen_by_name() -> None:
    assert cold_storage(S3_GLACIER, s3=None, glacier=None, vault="v", thaw_topic_arn=None).name == (
        S3_GLACIER
    )
    assert cold_storage(VAULT, s3=None, glacier=None, vault="v", thaw_topic_arn=None).name == VAULT
    with pytest.raises(ValueError, match="s3-glacier, vault"):
        cold_storage("tape", s3=None, glacier=None, vault="v", thaw_topic_arn=None)
