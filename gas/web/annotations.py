"""My annotations: the list (newest first, paginated by key), details, status, downloads, log."""

from __future__ import annotations

from typing import Any

import bottle
from itsdangerous import BadSignature, URLSafeSerializer

from gas.core.jobs import Job, JobStatus, StorageStatus
from gas.core.keys import looks_like_job_id
from gas.core.publisher import request_restore
from gas.core.stack import locator_for
from gas.web import security
from gas.web.context import WebContext

PAGE_SIZE = 20
MAX_LOG_BYTES = 1024 * 1024


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    # The page token is DynamoDB's LastEvaluatedKey, signed so it comes back unchanged.
    pages = URLSafeSerializer(ctx.page_secret, salt="gas.annotations.page")

    def own_job(job_id: str) -> Job:
        """The logged-in user's job; 404 for unknown ids and other users' jobs alike."""
        account = ctx.require_account()
        job = ctx.jobs.get(job_id) if looks_like_job_id(job_id) else None
        if job is None or job.user_id != account.user_id:
            raise bottle.HTTPError(404)
        return job

    @app.get("/annotations")
    @security.login_required
    def list_jobs() -> str:
        account = ctx.require_account()
        start_key = None
        token = bottle.request.query.getunicode("page", "")
        if token:
            try:
                start_key = pages.loads(token)
            except BadSignature:
                start_key = None
        page = ctx.jobs.list_for_user(account.user_id, PAGE_SIZE, start_key)
        next_page = pages.dumps(page.next_key) if page.next_key else None
        return ctx.render(
            "annotations/list.html", jobs=page.jobs, next_page=next_page, first_page=not token
        )

    @app.get("/annotations/<job_id>")
    @security.login_required
    def details(job_id: str) -> str:
        job = own_job(job_id)
        return ctx.render("annotations/details.html", job=job, downloads=ctx.results.downloads(job))

    @app.post("/annotations/<job_id>/restore")
    @security.login_required
    def retry_restore(job_id: str) -> None:
        """Ask again for a restore that gave up (Premium; the job is ARCHIVED again)."""
        job = own_job(job_id)
        account = ctx.require_account()
        if account.plan == "premium" and job.storage_status == StorageStatus.ARCHIVED:
            request_restore(ctx.clients.sns, locator_for(ctx.clients), account.user_id)
            security.flash("The restore was asked for again; we will email you when it is done.")
        bottle.redirect(f"/annotations/{job.job_id}", 303)

    @app.get("/annotations/<job_id>/status")
    @security.login_required
    def status(job_id: str) -> dict[str, Any]:
        job = own_job(job_id)
        return {"job_id": job.job_id, "status": str(job.job_status), "progress": job.progress}

    @app.get("/annotations/<job_id>/log")
    @security.login_required
    def log_page(job_id: str) -> str:
        job = own_job(job_id)
        if job.job_status not in (JobStatus.COMPLETED, JobStatus.FAILED) or not (
            job.s3_results_bucket and job.s3_key_log_file
        ):
            raise bottle.HTTPError(404)
        text, truncated = ctx.results.read_log(job, MAX_LOG_BYTES)
        return ctx.render("annotations/log.html", job=job, text=text, truncated=truncated)
