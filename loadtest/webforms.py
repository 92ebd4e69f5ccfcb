"""Reading GAS's pages as a browser does: form fields, CSRF tokens, links and limits.

Shared by the Locust users and the job-request generator; only HTML in, values out
(each caller makes its own requests, with its own client).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CSRF_FIELD = "csrf_token"
JOB_LINK = re.compile(r'href="/annotations/([0-9a-f-]{36})"')
JOB_PATH = re.compile(r"/annotations/([0-9a-f-]{36})$")
UPLOAD_LIMIT = re.compile(r'id="upload-form"[^>]*data-limit="(\d+)"')


class _FormFields(HTMLParser):
    """The hidden inputs of the form with a given id."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        elif tag == "input" and self.inside and attributes.get("type") == "hidden":
            self.fields[attributes.get("name") or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def hidden_fields(page: str, form_id: str) -> dict[str, str]:
    """The hidden fields a browser would post with form ``#form_id`` (CSRF token included)."""
    parser = _FormFields(form_id)
    parser.feed(page)
    if CSRF_FIELD not in parser.fields:
        raise LookupError(f"the page has no form #{form_id} with a CSRF token")
    return parser.fields


def login_data(page: str, email: str, password: str) -> dict[str, str]:
    """What the login form posts, from the login page."""
    return {**hidden_fields(page, "login-form"), "next": "/", "email": email, "password": password}


def register_data(page: str, name: str, email: str, password: str) -> dict[str, str]:
    """What the registration form posts, from the registration page."""
    return {
        **hidden_fields(page, "register-form"),
        "name": name,
        "email": email,
        "password": password,
    }


def job_ids(page: str) -> list[str]:
    """The job ids linked from a page (My annotations lists the newest first)."""
    return list(dict.fromkeys(JOB_LINK.findall(page)))


def job_id_from_location(location: str) -> str | None:
    """The job id in the redirect that follows a registered upload (``/annotations/<id>``)."""
    match = JOB_PATH.search(location.split("?", 1)[0])
    return match.group(1) if match else None


def upload_limit(page: str) -> int | None:
    """The account's upload limit in bytes, as the annotate page states it to its script."""
    match = UPLOAD_LIMIT.search(page)
    return int(match.group(1)) if match else None
