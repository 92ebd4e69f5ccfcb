"""Helpers for the web app's route tests (plain code; the fixtures are in web_fixtures)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

with warnings.catch_warnings():
    # WebOb 1.8 (WebTest's base) still imports the stdlib cgi module on Python 3.11.
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    from webtest import TestApp, TestResponse

__all__ = [
    "PASSWORD",
    "SECRET",
    "AuthActions",
    "TestApp",
    "TestResponse",
    "csrf_from",
    "post_form_to_s3",
]

SECRET = "test-session-secret-0123456789abcdef"
PASSWORD = "correct horse battery"


def csrf_from(page: TestResponse) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "no CSRF field on the page"
    return match.group(1)


@dataclass
class AuthActions:
    client: TestApp

    def register(
        self, email: str = "alice@example.com", password: str = PASSWORD, name: str = "Alice"
    ) -> TestResponse:
        form = self.client.get("/register").forms["register-form"]
        form["name"], form["email"], form["password"] = name, email, password
        return form.submit(expect_errors=True)

    def login(self, email: str = "alice@example.com", password: str = PASSWORD) -> TestResponse:
        form = self.client.get("/login").forms["login-form"]
        form["email"], form["password"] = email, password
        return form.submit(expect_errors=True)

    def logout(self) -> TestResponse:
        token = csrf_from(self.client.get("/"))
        return self.client.post("/logout", {"csrf_token": token})


def post_form_to_s3(url: str, fields: dict[str, Any], content: bytes, name: str) -> str:
    """POST a file as the browser's form does; returns S3's redirect as a path for the app.

    Unlike tests.integration.services.post_upload this does not follow the 303:
    it points at web_url, where no server listens; the test hands it to the app.
    """
    response = requests.post(
        url, data=fields, files={"file": (name, content)}, timeout=30, allow_redirects=False
    )
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["Location"])
    return f"{location.path}?{location.query}"
