"""Annotate: a form that POSTs the file straight to S3, then registration of the upload.

The presigned POST fixes the object key, file name included, before the
browser has chosen a file. So the page is rendered with a form for
``input.vcf`` (what a browser without JavaScript uploads), and
``static/annotate.js`` fetches a form for the chosen file's own name from
``/annotate/form`` when a file is picked. S3 answers a successful upload
with a 303 to ``/annotate/uploaded``, which registers the job.
"""

from __future__ import annotations

import logging
from typing import Any

import bottle

from gas.core.users import upload_limit_bytes
from gas.services.submission import SubmissionRefused, Upload
from gas.web import security
from gas.web.context import WebContext

log = logging.getLogger(__name__)

DEFAULT_FILE_NAME = "input.vcf"


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    def new_upload(file_name: str) -> Upload:
        account = ctx.require_account()
        return ctx.submission.new_upload(
            account.user_id,
            file_name,
            ctx.users.plan(account.user_id),
            redirect_url=f"{ctx.settings.web_url}/annotate/uploaded",
        )

    @app.get("/annotate")
    @security.login_required
    def annotate_form() -> str:
        account = ctx.require_account()
        plan = ctx.users.plan(account.user_id)
        upload = new_upload(DEFAULT_FILE_NAME)
        security.allow_form_action(upload.url)
        return ctx.render(
            "annotate/form.html",
            upload=upload,
            plan=plan,
            limit=upload_limit_bytes(ctx.settings, plan),
        )

    @app.get("/annotate/form")
    @security.login_required
    def upload_form() -> dict[str, Any]:
        """JSON: the S3 form's action and fields for the chosen file's name."""
        file_name = bottle.request.query.getunicode("filename", "")
        try:
            upload = new_upload(file_name)
        except SubmissionRefused as exc:
            bottle.response.status = 400
            return {"error": f"This file name cannot be used: {exc}"}
        return {"url": upload.url, "fields": upload.fields}

    @app.get("/annotate/uploaded")
    @security.login_required
    def uploaded() -> Any:
        account = ctx.require_account()
        key = bottle.request.query.getunicode("key", "")
        bucket = bottle.request.query.getunicode("bucket", "")
        if bucket and bucket != ctx.settings.names.inputs_bucket:
            return _refused(ctx, "that upload did not go to GAS's inputs bucket")
        try:
            job = ctx.submission.register(account.user_id, key)
        except SubmissionRefused as exc:
            return _refused(ctx, str(exc))
        security.flash(f"Your file {job.input_file_name} was received and queued for annotation.")
        bottle.redirect(f"/annotations/{job.job_id}", 303)


def _refused(ctx: WebContext, reason: str) -> str:
    log.info("upload refused: %s", reason)
    return ctx.render("annotate/refused.html", status=400, reason=reason)
