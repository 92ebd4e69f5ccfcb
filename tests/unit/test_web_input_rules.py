"""Rules on what users send: where login may return to, and which email addresses count."""

from __future__ import annotations

import pytest

from gas.core.users import normalize_email
from gas.web.security import safe_next

HOSTILE_TARGETS = [
    "//evil.com",
    "/\\evil.com",
    "/\t/evil.com",  # what /%09/evil.com becomes once the query is decoded
    "/%09/evil.com",
    "/\n/evil.com",
    "/%0a/evil.com",
    "/%2F/evil.com",
    "/%252F/evil.com",  # encoded twice
    "/%5Cevil.com",
    "https:evil.com",
    "https://evil.com",
    "http:/evil.com",
    "javascript:alert(1)",
    "evil.com",
    " /profile",
    "\\\\evil.com",
    "/profile\x00",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_no_return_target_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "target", ["/profile", "/annotations/0b5e?page=2", "/annotate", "/a/b.c-d"]
)
def test_paths_on_the_site_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [None, ""])
def test_no_target_is_home(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("bob.o'neil+gas@mail.example.co.uk", "bob.o'neil+gas@mail.example.co.uk"),
    ],
)
def test_addresses_are_normalised(typed: str, kept: str) -> None:
    assert normalize_email(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "a@x.org,b@evil.com",
        "a@x.org b@evil.com",
        "a\x00@x.org",
        "a\r\nBcc: b@evil.com@x.org",
        "a@.",
        "a@x",
        "@x.org",
        "a@",
        "a@@x.org",
        "a@x..org",
        "a@localhost",
        "a" * 250 + "@x.org",
    ],
)
def test_malformed_addresses_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="valid email address"):
        normalize_email(typed)
