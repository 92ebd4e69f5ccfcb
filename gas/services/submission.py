"""Job submission: a presigned POST for the browser's upload, then registration of the job.

The browser sends the file straight to S3; S3 (the real one) enforces the
signed policy: this exact key and a size within the user's plan. Registration
re-checks both with HeadObject, because an emulator (moto) or a lax S3 does
not enforce POST policies, and because the key comes back from the browser.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gas.core.aws import AwsClients, is_error
from gas.core.jobs import Job, JobRepository, JobStatus
from gas.core.keys import BadKey, InputKey, check_user_id, new_input_key, parse_input_key
from gas.core.publisher import request_annotation
from gas.core.settings import Settings
from gas.core.stack import StackLocator
from gas.core.users import Plan, UserRepository, upload_limit_bytes

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
GZIP_SMALLEST_BYTES = 18  # a 10-byte header, an empty deflate block and the 8-byte trailer


class SubmissionRefused(ValueError):
    """An upload or registration GAS refuses; the message can be shown to the user."""


@dataclass(frozen=True, slots=True)
class Upload:
    """What the browser needs to POST a file to S3: the form's action URL and hidden fields."""

    url: str
    fields: dict[str, str]
    job_id: str
    key: str


class SubmissionService:
    """Creates upload forms and registers uploaded files as PENDING jobs."""

    def __init__(
        self,
        clients: AwsClients,
        jobs: JobRepository,
        users: UserRepository,
        locator: StackLocator,
    ) -> None:
        self._s3 = clients.s3
        self._sns = clients.sns
        self.settings: Settings = clients.settings
        self.jobs = jobs
        self.users = users
        self.locator = locator

    def new_upload(
        self, user_id: str, filename: str, plan: Plan, redirect_url: str | None = None
    ) -> Upload:
        """A presigned POST for ``<user_id>/<job_id>~<safe filename>``, capped by the plan.

        With ``redirect_url``, S3 answers a successful upload with a 303 there
        (bucket, key and etag in the query string).
        """
        try:
            input_key = new_input_key(user_id, filename)
        except BadKey as exc:
            raise SubmissionRefused(str(exc)) from None
        fields: dict[str, str] = {}
        conditions: list[Any] = [
            ["content-length-range", 1, upload_limit_bytes(self.settings, plan)]
        ]
        if redirect_url:
            fields["success_action_redirect"] = redirect_url
            conditions.append({"success_action_redirect": redirect_url})
        # boto3 adds the exact {"key": ...} and {"bucket": ...} conditions itself.
        post = self._s3.generate_presigned_post(
            Bucket=self.settings.names.inputs_bucket,
            Key=input_key.key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=self.settings.presigned_upload_seconds,
        )
        return Upload(post["url"], dict(post["fields"]), input_key.job_id, input_key.key)

    def register(self, user_id: str, key: str) -> Job:
        """Record an uploaded file as a PENDING job and request its annotation.

        Refuses keys outside the user's folder, missing objects, and objects
        over the plan's limit (deleting those). Registering a key again returns
        the same job; while that job is still PENDING the request is published
        again, so a crash between the write and the publish heals on retry
        (the annotator's conditional claim makes a second message harmless).
        """
        input_key = self._owned_key(user_id, key)
        size = self._uploaded_size(input_key)
        plan = self.users.plan(input_key.user_id)
        self._check_size(input_key, size, plan)
        self._check_expanded_size(input_key, size, plan)
        job = Job(
            job_id=input_key.job_id,
            user_id=input_key.user_id,
            input_file_name=input_key.file_name,
            s3_inputs_bucket=self.settings.names.inputs_bucket,
            s3_key_input_file=input_key.key,
            submit_time=self.jobs.now(),
        )
        if not self.jobs.create(job):
            existing = self.jobs.get(job.job_id)
            if existing is None or existing.user_id != user_id:
                raise SubmissionRefused("this upload belongs to another job")
            log.info("job %s: registered again, status %s", job.job_id, existing.job_status)
            job = existing
        if job.job_status == JobStatus.PENDING:
            self._request_annotation(job)
        return job

    def _owned_key(self, user_id: str, key: str) -> InputKey:
        try:
            check_user_id(user_id)
            input_key = parse_input_key(key)
        except BadKey as exc:
            raise SubmissionRefused(str(exc)) from None
        if input_key.user_id != user_id:
            log.warning("job %s: user %s tried to register %s", input_key.job_id, user_id, key)
            raise SubmissionRefused("that file was not uploaded by you")
        return input_key

    def _uploaded_size(self, input_key: InputKey) -> int:
        try:
            head = self._s3.head_object(Bucket=self.settings.names.inputs_bucket, Key=input_key.key)
        except Exception as exc:
            if is_error(exc, "404", "NoSuchKey", "NotFound"):
                raise SubmissionRefused("no uploaded file was found; please upload again") from None
            raise
        return int(head["ContentLength"])

    def _check_size(self, input_key: InputKey, size: int, plan: Plan) -> None:
        limit = upload_limit_bytes(self.settings, plan)
        if 1 <= size <= limit:
            return
        # Nothing may keep a file the plan does not allow (and S3 should have refused it).
        self._s3.delete_object(Bucket=self.settings.names.inputs_bucket, Key=input_key.key)
        log.warning("job %s: refused a %s-byte upload on plan %s", input_key.job_id, size, plan)
        if size < 1:
            raise SubmissionRefused("the uploaded file is empty")
        hint = " Subscribe to Premium for larger files." if plan == "free" else ""
        raise SubmissionRefused(
            f"the file is {size:,} bytes; your {plan} plan accepts at most {limit:,} bytes.{hint}"
        )

    def _check_expanded_size(self, input_key: InputKey, size: int, plan: Plan) -> None:
        """Refuse a gzip whose trailer already shows it expands past the plan's limit on
        decompressed input; anntools enforces the same limit while streaming, exactly."""
        expanded = self._gzip_expanded_size(input_key.key, size)
        limit = self.settings.limits(plan).input_bytes
        if expanded is None or expanded <= limit:
            return
        self._s3.delete_object(Bucket=self.settings.names.inputs_bucket, Key=input_key.key)
        log.warning("job %s: refused a gzip expanding to %s bytes", input_key.job_id, expanded)
        hint = " Subscribe to Premium for larger files." if plan == "free" else ""
        raise SubmissionRefused(
            f"the file expands to at least {expanded:,} bytes once decompressed; your {plan} "
            f"plan accepts at most {limit:,} bytes.{hint}"
        )

    def _gzip_expanded_size(self, key: str, size: int) -> int | None:
        """A lower bound of a gzip's decompressed size from two small ranged reads: its
        last member's ISIZE (that member's size mod 4 GiB). None when it is no gzip."""
        if size < GZIP_SMALLEST_BYTES:
            return None
        if self._read_range(key, 0, 1) != GZIP_MAGIC:
            return None
        return int.from_bytes(self._read_range(key, size - 4, size - 1), "little")

    def _read_range(self, key: str, first: int, last: int) -> bytes:
        answer = self._s3.get_object(
            Bucket=self.settings.names.inputs_bucket, Key=key, Range=f"bytes={first}-{last}"
        )
        data: bytes = answer["Body"].read()
        return data

    def _request_annotation(self, job: Job) -> None:
        request_annotation(self._sns, self.locator, job.job_id, job.user_id)
        log.info("job %s: annotation requested", job.job_id)
