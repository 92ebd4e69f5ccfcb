"""Which hosts a load generator may send to: loopback, or a host the user named.

A load test that reaches the wrong host is an attack on someone else's server, so every
URL a generator is about to use goes through :func:`check`. Allowed are loopback
addresses (127.0.0.0/8, ::1, ``localhost``) and the hosts the user named explicitly:
the web app's URL they passed (Locust's ``--host``, ann_load's ``--web-url``) and any
listed in ``GAS_LOAD_ALLOW_HOSTS`` (comma-separated), e.g. the inputs bucket's S3 host
a deployment's upload form posts to. Anything else, including a host that an app's
response points to, is refused.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from urllib.parse import urlsplit

ALLOW_ENV = "GAS_LOAD_ALLOW_HOSTS"


class RefusedTarget(ValueError):
    """A URL whose host is neither loopback nor named by the user."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    host = urlsplit(url).hostname
    if not host:
        raise RefusedTarget(f"{url!r} has no host")
    return host.lower()


def allowed_hosts(
    named_urls: Iterable[str] = (), environ: dict[str, str] | None = None
) -> set[str]:
    """The hosts of the URLs the user gave, plus those listed in GAS_LOAD_ALLOW_HOSTS."""
    env = os.environ if environ is None else environ
    listed = {h.strip().lower() for h in env.get(ALLOW_ENV, "").split(",") if h.strip()}
    return listed | {host_of(url) for url in named_urls}


def check(url: str, allowed: set[str]) -> str:
    """``url`` itself when its host may be targeted; RefusedTarget otherwise."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise RefusedTarget(f"{url!r} is not an http(s) URL")
    host = host_of(url)
    if is_loopback(host) or host in allowed:
        return url
    raise RefusedTarget(
        f"refusing to send load to {host}: it is not loopback and was not named "
        f"(pass it as the target, or add it to {ALLOW_ENV})"
    )
