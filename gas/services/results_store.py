"""A job's result files in the results bucket: what the web app and the CLI read of them.

Only this module (and the annotator, which writes them) touches the results objects; callers
check that the job is the user's. Archived files (storage_status other than AVAILABLE) are
never offered: they are in cold storage until a restore brings them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gas.core.jobs import Job, JobStatus

# (kind, label, the Job attribute holding its key); vcf and tsv are archived for Free users.
DOWNLOADS = (
    ("vcf", "Annotated VCF", "s3_key_result_file"),
    ("tsv", "Annotations as TSV", "s3_key_tsv_file"),
    ("log", "Log", "s3_key_log_file"),
)
ARCHIVABLE = frozenset({"vcf", "tsv"})
READ_CHUNK_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class Download:
    """One result file a user may fetch: a short-lived presigned GET link."""

    kind: str
    label: str
    name: str
    url: str


def is_archived(job: Job) -> bool:
    """True while the results are in cold storage (ARCHIVED) or on their way back (RESTORING)."""
    return job.storage_status not in (None, "AVAILABLE")


def file_name(key: str) -> str:
    """The name a user sees for a result key (the part after the job's ``~``)."""
    return key.rsplit("~", 1)[-1]


class ResultsStore:
    """Reads a job's result files and presigns links to them."""

    def __init__(self, s3: Any, download_seconds: int) -> None:
        self._s3 = s3
        self._download_seconds = download_seconds

    def read_summary(self, job: Job, max_bytes: int) -> Any:
        """The job's summary.json, parsed (at most ``max_bytes`` are read); raises when it is
        missing, archived or not JSON."""
        obj = self._s3.get_object(
            Bucket=job.s3_results_bucket,
            Key=job.s3_key_summary_file,
            Range=f"bytes=0-{max_bytes - 1}",
        )
        return json.loads(obj["Body"].read())

    def tsv_lines(self, job: Job) -> Iterator[str]:
        """The TSV's lines, streamed (64 KiB reads), as text without line ends."""
        obj = self._s3.get_object(Bucket=job.s3_results_bucket, Key=job.s3_key_tsv_file)
        for raw in obj["Body"].iter_lines(chunk_size=READ_CHUNK_BYTES):
            yield raw.decode("utf-8", "replace")

    def read_log(self, job: Job, max_bytes: int) -> tuple[str, bool]:
        """The job's log as text (its first ``max_bytes``) and whether it was cut there."""
        obj = self._s3.get_object(
            Bucket=job.s3_results_bucket,
            Key=job.s3_key_log_file,
            Range=f"bytes=0-{max_bytes - 1}",
        )
        text = obj["Body"].read().decode("utf-8", "replace")
        return text, int(obj.get("ContentLength", 0)) >= max_bytes

    def downloads(self, job: Job) -> list[Download]:
        """Links to a COMPLETED job's result files that are not archived (none otherwise)."""
        if job.job_status != JobStatus.COMPLETED or not job.s3_results_bucket:
            return []
        links = []
        for kind, label, attribute in DOWNLOADS:
            key = getattr(job, attribute)
            if not key or (is_archived(job) and kind in ARCHIVABLE):
                continue
            url = self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": job.s3_results_bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{file_name(key)}"',
                },
                ExpiresIn=self._download_seconds,
            )
            links.append(Download(kind, label, file_name(key), url))
        return links
