"""Sessions, CSRF tokens, return paths, and the headers every response carries.

Sessions are signed cookies (itsdangerous, with an expiry), so any web
instance behind the load balancer can read them, given the same
``GAS_SESSION_SECRET``. The session holds the user id, the account's session
version when it was made, and a per-session CSRF token; every POST must echo
the token in a hidden ``csrf_token`` field. Logging out moves the account's
version on (users table), and every request compares: a cookie saved before
a logout opens nothing, on any server.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from functools import wraps
from http.cookies import SimpleCookie
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote, urlsplit

import bottle
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "gas_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
_ENVIRON_KEY = "gas.session"
FORM_ACTION_KEY = "gas.form_action"
SOURCES_KEY = "gas.csp_sources"
# The CSP directives a page may widen beyond 'self' (allow_sources), e.g. for Stripe.js.
WIDENABLE = ("script-src", "frame-src", "connect-src")
# Paths that take POSTs from other servers, not from GAS's forms, so carry no CSRF token.
CSRF_EXEMPT_PATHS = frozenset({"/stripe/webhook"})

F = TypeVar("F", bound=Callable[..., Any])

# Characters no return path may hold in any decoding: controls, space, DEL, backslash.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


class Session(dict[str, Any]):
    """The signed cookie's contents for one request; ``modified`` means: send it back."""

    modified: bool = False

    def mark(self) -> None:
        self.modified = True


class SessionCodec:
    """Signs and reads session cookies; an expired or forged cookie reads as no session."""

    def __init__(self, secret: str, max_age: int = SESSION_SECONDS, secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="gas.session")
        self.max_age = max_age
        self.secure = secure

    def load(self, cookie: str | None) -> Session:
        session = Session()
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=self.max_age)
            except BadSignature:  # also SignatureExpired
                data = None
            if isinstance(data, dict):
                session.update(data)
        if not isinstance(session.get("csrf"), str):
            session.clear()
            session["csrf"] = secrets.token_urlsafe(32)
            session.mark()
        return session

    def set_cookie_header(self, session: Session) -> tuple[str, str]:
        cookie: SimpleCookie = SimpleCookie()
        cookie[SESSION_COOKIE] = self._serializer.dumps(dict(session))
        morsel = cookie[SESSION_COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        morsel["max-age"] = str(self.max_age)
        if self.secure:
            morsel["secure"] = True
        return ("Set-Cookie", morsel.OutputString())


def session() -> Session:
    """This request's session, read from its cookie once (a new one if none or invalid)."""
    environ = bottle.request.environ
    found = environ.get(_ENVIRON_KEY)
    if found is None:
        codec: SessionCodec = environ["gas.codec"]
        found = codec.load(bottle.request.get_cookie(SESSION_COOKIE))
        environ[_ENVIRON_KEY] = found
    return cast(Session, found)


def request_session(environ: dict[str, Any]) -> Session | None:
    """The session a request used, if it used one (for the response's Set-Cookie)."""
    return cast("Session | None", environ.get(_ENVIRON_KEY))


def current_user_id() -> str | None:
    uid = session().get("uid")
    return uid if isinstance(uid, str) else None


def session_version() -> int | None:
    """The account's session version this session was made under (None: none recorded)."""
    version = session().get("sv")
    return version if isinstance(version, int) else None


def log_in(user_id: str, version: int) -> None:
    """Start a fresh session for this user under the account's session ``version``
    (new CSRF token: no session fixation)."""
    current = session()
    current.clear()
    current.update({"uid": user_id, "sv": version, "csrf": secrets.token_urlsafe(32)})
    current.mark()


def log_out() -> None:
    current = session()
    current.clear()
    current["csrf"] = secrets.token_urlsafe(32)
    current.mark()


def csrf_token() -> str:
    return str(session()["csrf"])


def check_csrf() -> None:
    """403 unless a POST carries this session's CSRF token (constant-time comparison)."""
    if bottle.request.method != "POST":
        return
    # Stripe's webhook is posted by Stripe, not a browser: it has no session or CSRF
    # token and is authenticated by its Stripe-Signature header instead (gas.web.billing).
    if bottle.request.path in CSRF_EXEMPT_PATHS:
        return
    sent = bottle.request.forms.get(CSRF_FIELD) or ""
    expected = csrf_token()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise bottle.HTTPError(
            403, "This form has expired or did not come from GAS. Please reload and try again."
        )


def flash(message: str) -> None:
    """Show a message on the next page rendered."""
    current = session()
    current["flash"] = [*current.get("flash", []), message][-5:]
    current.mark()


def take_flashes() -> list[str]:
    current = session()
    messages = current.pop("flash", [])
    if messages:
        current.mark()
    return [str(m) for m in messages]


def safe_next(target: str | None) -> str:
    """A path on this site to return to after login; anything else becomes '/'.

    The target is judged in every form a browser or a redirect may read it:
    as given, and percent-decoded again and again until it stops changing.
    Each form must be a path ("/x", never "//host" or "/\\host") with no
    control character, space or backslash (browsers drop tabs and newlines
    from URLs and read "\\" as "/") and no scheme or host. So ``/%09/evil.com``,
    ``//evil.com``, ``/\\evil.com``, ``https:evil.com`` and their encodings all
    become '/'.
    """
    if not target:
        return "/"
    form, seen = target, set()
    while form not in seen:
        if not _is_local_path(form):
            return "/"
        seen.add(form)
        form = unquote(form)
    return target


def _is_local_path(form: str) -> bool:
    if _URL_UNSAFE.search(form) or not form.startswith("/") or form.startswith("//"):
        return False
    parts = urlsplit(form)
    return not parts.scheme and not parts.netloc


def login_required(view: F) -> F:
    """Redirect anonymous visitors to the login page, then back here."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user_id() is None:
            path = bottle.request.fullpath
            if bottle.request.query_string:
                path += "?" + bottle.request.query_string
            bottle.redirect("/login?next=" + quote(path, safe=""), 303)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def allow_form_action(url: str) -> None:
    """Let this response's page post a form to the origin of ``url`` (CSP form-action)."""
    parts = urlsplit(url)
    environ = bottle.request.environ
    environ[FORM_ACTION_KEY] = [
        *environ.get(FORM_ACTION_KEY, []),
        f"{parts.scheme}://{parts.netloc}",
    ]


def allow_sources(directive: str, url: str) -> None:
    """Let this response's page use the origin of ``url`` in one CSP directive (WIDENABLE)."""
    if directive not in WIDENABLE:
        raise ValueError(f"{directive} cannot be widened")
    parts = urlsplit(url)
    environ = bottle.request.environ
    sources: dict[str, list[str]] = environ.setdefault(SOURCES_KEY, {})
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in sources.setdefault(directive, []):
        sources[directive].append(origin)


def security_headers(
    form_action_origins: list[str],
    secure: bool,
    sources: dict[str, list[str]] | None = None,
) -> list[tuple[str, str]]:
    """Headers for every response: a self-only CSP that may post forms to the inputs bucket.

    ``sources`` (from allow_sources) adds origins to script-src, frame-src or connect-src
    for one response: the subscribe page's Stripe.js.
    """
    form_action = " ".join(["'self'", *form_action_origins])
    extra = sources or {}

    def directive(name: str) -> str:
        return " ".join([name, "'self'", *extra.get(name, [])])

    frame = f"{directive('frame-src')}; " if extra.get("frame-src") else ""
    csp = (
        f"default-src 'self'; {directive('script-src')}; style-src 'self'; "
        f"img-src 'self' data:; {directive('connect-src')}; {frame}object-src 'none'; "
        f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers
