"""Cold storage for archived results: one small interface, two backends.

- ``s3-glacier`` (the default): the S3 Glacier Flexible Retrieval storage class. Archiving
  changes the result object's storage class in place (CopyObject onto itself with
  ``StorageClass=GLACIER``); the archive id is the object key. A retrieval is
  RestoreObject with a tier; HeadObject's ``Restore`` header says when it is done;
  thawing copies the restored object onto itself as STANDARD again. The object never
  leaves the results bucket, but while archived it cannot be read (GetObject answers
  InvalidObjectState), which is what "gone from the results bucket" means for this backend.
- ``vault`` (Amazon Glacier vaults, closed to new AWS customers since 2025-12-15):
  archiving uploads the bytes as a vault archive and, once the job records it, deletes the
  result object; a retrieval is an archive-retrieval job (its completion notice goes to the
  thaw topic); thawing puts the job's output back at the result key; the archive is then
  deleted.

Both try the Expedited tier first and fall back to Standard when AWS has no capacity
(``InsufficientCapacityException`` for vaults, ``GlacierExpeditedRetrievalNotAvailable``
for S3). Every call is safe to repeat: the handlers run at least once.

The archiver records each file's sha256 (hex) at archive time; the thawer checks the bytes it
put back against it. For ``s3-glacier`` the checksum also travels with the object as user
metadata (``gas-sha256``), so a retried archive of an object already in GLACIER still
knows it without reading the (now unreadable) bytes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from gas.core.aws import AwsClients, is_error
from gas.core.stack import StackLocator

log = logging.getLogger(__name__)

S3_GLACIER = "s3-glacier"
VAULT = "vault"
BACKENDS = (S3_GLACIER, VAULT)
DEFAULT_BACKEND = S3_GLACIER
EXPEDITED = "Expedited"
STANDARD = "Standard"
CHECKSUM_METADATA = "gas-sha256"
ARCHIVE_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
RESTORED_DAYS = 1  # how long S3 keeps the temporary restored copy (we copy it at once)
_CHUNK = 1024 * 1024


class RetrievalState(StrEnum):
    RUNNING = "RUNNING"  # not done yet: look again later
    READY = "READY"  # the bytes can be thawed now
    GONE = "GONE"  # failed, expired or unknown: start a new retrieval


@dataclass(frozen=True, slots=True)
class Frozen:
    """One file in cold storage: its archive id and the sha256 (hex) of its bytes."""

    archive_id: str
    sha256: str


class ColdStorage(Protocol):
    """What the archiver, restorer and thawer need from a cold-storage backend.

    ``bucket``/``key`` always name the file's place in the results bucket.
    """

    name: str

    def freeze(self, bucket: str, key: str) -> Frozen:
        """Put the object into cold storage; the hot copy may remain until :meth:`evict`."""
        ...

    def evict(self, bucket: str, key: str, archive_id: str) -> None:
        """Remove the hot copy once the job records the archive (idempotent)."""
        ...

    def start_retrieval(self, bucket: str, key: str, archive_id: str, job_id: str) -> str:
        """Start making the archive readable; returns a retrieval id."""
        ...

    def retrieval_state(
        self, bucket: str, key: str, archive_id: str, retrieval_id: str | None
    ) -> RetrievalState:
        """Whether the retrieval is done."""
        ...

    def thaw(self, bucket: str, key: str, archive_id: str, retrieval_id: str | None) -> None:
        """Put the archived bytes back at the key as an ordinary (STANDARD) object."""
        ...

    def delete(self, bucket: str, key: str, archive_id: str) -> None:
        """Forget the archive (idempotent; the hot copy must be back first)."""
        ...


def sha256_of_body(body: Any) -> str:
    """sha256 (hex) of a streaming S3 body, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def hot_sha256(s3: Any, bucket: str, key: str) -> str | None:
    """sha256 of the object if it is readable in a hot storage class; None otherwise."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_error(exc, "404", "NoSuchKey", "NotFound"):
            return None
        raise
    if head.get("StorageClass") in ARCHIVE_STORAGE_CLASSES:
        return None
    return sha256_of_body(s3.get_object(Bucket=bucket, Key=key)["Body"])


class S3GlacierStorage:
    """The S3 Glacier storage class, in place: the archive id is the object key."""

    name = S3_GLACIER

    def __init__(self, s3: Any, *, tier: str = EXPEDITED, storage_class: str = "GLACIER") -> None:
        self.s3 = s3
        self.tier = tier
        self.storage_class = storage_class

    def freeze(self, bucket: str, key: str) -> Frozen:
        head = self.s3.head_object(Bucket=bucket, Key=key)
        if head.get("StorageClass") in ARCHIVE_STORAGE_CLASSES:
            recorded = head.get("Metadata", {}).get(CHECKSUM_METADATA)
            if not recorded:
                raise RuntimeError(f"{key} is in {head['StorageClass']} without a gas checksum")
            return Frozen(key, recorded)  # a retry: already frozen
        sha256 = sha256_of_body(self.s3.get_object(Bucket=bucket, Key=key)["Body"])
        extra = {"ContentType": head["ContentType"]} if head.get("ContentType") else {}
        self.s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": key},
            StorageClass=self.storage_class,
            MetadataDirective="REPLACE",
            Metadata={**head.get("Metadata", {}), CHECKSUM_METADATA: sha256},
            **extra,
        )
        return Frozen(key, sha256)

    def evict(self, bucket: str, key: str, archive_id: str) -> None:
        """Nothing to do: the object itself is the archive."""

    def start_retrieval(self, bucket: str, key: str, archive_id: str, job_id: str) -> str:
        tiers = [self.tier] if self.tier == STANDARD else [self.tier, STANDARD]
        for tier in tiers:
            try:
                self.s3.restore_object(
                    Bucket=bucket,
                    Key=archive_id,
                    RestoreRequest={"Days": RESTORED_DAYS, "GlacierJobParameters": {"Tier": tier}},
                )
            except Exception as exc:
                if is_error(exc, "RestoreAlreadyInProgress"):
                    log.info("job %s: restore of %s already in progress", job_id, key)
                    return tier
                if tier != STANDARD and is_error(exc, "GlacierExpeditedRetrievalNotAvailable"):
                    log.warning("job %s: no %s capacity, falling back to Standard", job_id, tier)
                    continue
                raise
            log.info("job %s: %s restore of %s started", job_id, tier, key)
            return tier
        raise AssertionError("unreachable: Standard either returns or raises")

    def retrieval_state(
        self, bucket: str, key: str, archive_id: str, retrieval_id: str | None
    ) -> RetrievalState:
        try:
            head = self.s3.head_object(Bucket=bucket, Key=archive_id)
        except Exception as exc:
            if is_error(exc, "404", "NoSuchKey", "NotFound"):
                return RetrievalState.GONE
            raise
        if head.get("StorageClass") not in ARCHIVE_STORAGE_CLASSES:
            return RetrievalState.READY  # thawed already (a repeated check)
        restore = head.get("Restore") or ""
        if 'ongoing-request="true"' in restore:
            return RetrievalState.RUNNING
        if 'ongoing-request="false"' in restore:
            return RetrievalState.READY
        return RetrievalState.GONE  # no restore requested, or its copy expired

    def thaw(self, bucket: str, key: str, archive_id: str, retrieval_id: str | None) -> None:
        head = self.s3.head_object(Bucket=bucket, Key=archive_id)
        if head.get("StorageClass") not in ARCHIVE_STORAGE_CLASSES:
            return
        extra = {"ContentType": head["ContentType"]} if head.get("ContentType") else {}
        self.s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": archive_id},
            StorageClass="STANDARD",
            MetadataDirective="REPLACE",
            Metadata=head.get("Metadata", {}),
            **extra,
        )

    def delete(self, bucket: str, key: str, archive_id: str) -> None:
        """Nothing to do: thawing turned the archive back into the ordinary object."""


class VaultStorage:
    """Amazon Glacier vault archives; retrieval jobs notify the thaw topic."""

    name = VAULT

    def __init__(
        self,
        glacier: Any,
        s3: Any,
        vault: str,
        thaw_topic_arn: str | None,
        *,
        tier: str = EXPEDITED,
    ) -> None:
        self.glacier = glacier
        self.s3 = s3
        self.vault = vault
        self.thaw_topic_arn = thaw_topic_arn
        self.tier = tier

    def freeze(self, bucket: str, key: str) -> Frozen:
        data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        sha256 = hashlib.sha256(data).hexdigest()
        response = self.glacier.upload_archive(
            accountId="-",
            vaultName=self.vault,
            archiveDescription=_description(key),
            body=data,
        )
        return Frozen(str(response["archiveId"]), sha256)

    def evict(self, bucket: str, key: str, archive_id: str) -> None:
        self.s3.delete_object(Bucket=bucket, Key=key)

    def start_retrieval(self, bucket: str, key: str, archive_id: str, job_id: str) -> str:
        tiers = [self.tier] if self.tier == STANDARD else [self.tier, STANDARD]
        for tier in tiers:
            parameters = {
                "Type": "archive-retrieval",
                "ArchiveId": archive_id,
                "Tier": tier,
                "Description": _description(job_id),
            }
            if self.thaw_topic_arn:
                parameters["SNSTopic"] = self.thaw_topic_arn
            try:
                response = self.glacier.initiate_job(
                    accountId="-", vaultName=self.vault, jobParameters=parameters
                )
            except Exception as exc:
                if tier != STANDARD and is_error(exc, "InsufficientCapacityException"):
                    log.warning("job %s: no %s capacity, falling back to Standard", job_id, tier)
                    continue
                raise
            log.info("job %s: %s retrieval of %s started", job_id, tier, key)
            return str(response["jobId"])
        raise AssertionError("unreachable: Standard either returns or raises")

    def retrieval_state(
        self, bucket: str, key: str, archive_id: str, retrieval_id: str | None
    ) -> RetrievalState:
        if not retrieval_id:
            return RetrievalState.GONE
        try:
            job = self.glacier.describe_job(accountId="-", vaultName=self.vault, jobId=retrieval_id)
        except Exception as exc:
            if is_error(exc, "ResourceNotFoundException"):
                return RetrievalState.GONE  # retrieval output expires after 24 hours
            raise
        if job.get("StatusCode") == "Succeeded" or (
            job.get("Completed") and job.get("StatusCode") != "Failed"
        ):
            return RetrievalState.READY
        if job.get("StatusCode") == "Failed":
            return RetrievalState.GONE
        return RetrievalState.RUNNING

    def thaw(self, bucket: str, key: str, archive_id: str, retrieval_id: str | None) -> None:
        output = self.glacier.get_job_output(
            accountId="-", vaultName=self.vault, jobId=retrieval_id
        )
        self.s3.put_object(Bucket=bucket, Key=key, Body=output["body"].read())

    def delete(self, bucket: str, key: str, archive_id: str) -> None:
        try:
            self.glacier.delete_archive(accountId="-", vaultName=self.vault, archiveId=archive_id)
        except Exception as exc:
            if not is_error(exc, "ResourceNotFoundException"):
                raise


def _description(text: str) -> str:
    """Glacier descriptions: printable ASCII, at most 1,024 characters."""
    printable = "".join(c if " " <= c <= "~" else "_" for c in text)
    return printable[:1024]


def cold_storage(
    backend: str,
    *,
    s3: Any,
    glacier: Any,
    vault: str,
    thaw_topic_arn: str | None,
    tier: str = EXPEDITED,
) -> ColdStorage:
    """The backend named by ``GAS_COLD_STORAGE`` (``s3-glacier`` or ``vault``)."""
    if backend == S3_GLACIER:
        return S3GlacierStorage(s3, tier=tier)
    if backend == VAULT:
        return VaultStorage(glacier, s3, vault, thaw_topic_arn, tier=tier)
    raise ValueError(f"cold storage must be one of {', '.join(BACKENDS)}, not {backend!r}")


def cold_storage_for(
    clients: AwsClients,
    locator: StackLocator,
    backend: str | None = None,
    tier: str | None = None,
) -> ColdStorage:
    """The stack's backend: settings.cold_storage and restore_tier unless given."""
    settings = clients.settings
    backend = backend or settings.cold_storage
    tier = tier or settings.restore_tier
    return cold_storage(
        backend,
        s3=clients.s3,
        glacier=clients.glacier,
        vault=clients.settings.names.archive_vault,
        thaw_topic_arn=locator.topic_arn("thaw"),
        tier=tier,
    )
