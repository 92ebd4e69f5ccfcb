"""Settings: one frozen object, read once from the environment.

Which AWS answers is chosen by boto3 itself from ``AWS_ENDPOINT_URL`` (unset:
real AWS; http://127.0.0.1:4566: the local emulator), so no setting here
switches behaviour between local and cloud.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gas.core.topology import ResourceNames

FREE_UPLOAD_LIMIT_BYTES = 150 * 1024  # 153,600: the Free plan's cap
MAX_SQS_DELAY_SECONDS = 900
COLD_STORAGE_BACKENDS = ("s3-glacier", "vault")
RESTORE_TIERS = ("Expedited", "Standard", "Bulk")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


# Words that mark a value someone meant to replace (in a template, an example, a first deploy).
_PLACEHOLDER = re.compile(
    r"placeholder|change[-_ ]?me|replace[-_ ]?me|example|entered[-_ ]outside|dummy|x{6}",
    re.IGNORECASE,
)
MIN_SECRET_CHARACTERS = 32


def check_secret(name: str, value: str) -> str:
    """``value``, unless it is a placeholder or too weak to sign anything: then SettingsError.

    A real secret is long (at least MIN_SECRET_CHARACTERS), varied (ten distinct characters
    or more) and names no placeholder word; `openssl rand -base64 48` gives one.
    """
    if _PLACEHOLDER.search(value):
        raise SettingsError(f"{name} is a placeholder: enter the real value")
    if len(value) < MIN_SECRET_CHARACTERS or len(set(value)) < 10:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_CHARACTERS} varied characters "
            "(e.g. `openssl rand -base64 48`)"
        )
    return value


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What one job of a plan may cost. anntools enforces the first two while streaming;
    the annotator enforces the last two on its child process."""

    input_bytes: int  # the input once decompressed (a small gzip can expand a thousandfold)
    records: int  # valid variant records
    seconds: int  # wall time of the annotation
    memory_bytes: int  # the anntools child's address space (RLIMIT_AS)


FREE_LIMITS = PlanLimits(
    input_bytes=10 * FREE_UPLOAD_LIMIT_BYTES,
    records=100_000,
    seconds=10 * 60,
    memory_bytes=2 * 1024**3,
)
PREMIUM_LIMITS = PlanLimits(
    input_bytes=200 * 1024**3,
    records=500_000_000,
    seconds=12 * 3600,
    memory_bytes=8 * 1024**3,
)


@dataclass(frozen=True, slots=True)
class Settings:
    stack: str = "gas"
    region: str = "us-east-1"
    free_retention_seconds: int = 600
    free_upload_limit_bytes: int = FREE_UPLOAD_LIMIT_BYTES
    premium_upload_limit_bytes: int = 5 * 1024**3  # S3's own cap for one POST
    presigned_upload_seconds: int = 600
    presigned_download_seconds: int = 300
    web_url: str = "http://127.0.0.1:8080"
    mail_sender: str = "gas-noreply@example.com"
    job_visibility_seconds: int = 300
    stripe_api_base: str | None = None  # localstripe's URL on one machine; None: Stripe itself
    cold_storage: str = "s3-glacier"  # or "vault" (Amazon Glacier vaults closed to new customers)
    restore_tier: str = "Expedited"  # falls back to Standard when Glacier has no capacity
    free_limits: PlanLimits = FREE_LIMITS
    premium_limits: PlanLimits = PREMIUM_LIMITS

    def __post_init__(self) -> None:
        try:
            ResourceNames(self.stack)  # validates the stack name
        except ValueError as exc:
            raise SettingsError(f"GAS_STACK: {exc}") from None
        _check_web_url(self.web_url)
        if self.cold_storage not in COLD_STORAGE_BACKENDS:
            raise SettingsError(
                f"GAS_COLD_STORAGE must be one of {', '.join(COLD_STORAGE_BACKENDS)}, "
                f"not {self.cold_storage!r}"
            )
        if self.restore_tier not in RESTORE_TIERS:
            raise SettingsError(
                f"GAS_RESTORE_TIER must be one of {', '.join(RESTORE_TIERS)}, "
                f"not {self.restore_tier!r}"
            )
        if not 0 <= self.free_retention_seconds <= MAX_SQS_DELAY_SECONDS:
            raise SettingsError(
                "GAS_FREE_RETENTION_SECONDS must be 0 to 900: "
                "SQS caps a queue's delay at 15 minutes"
            )

    def limits(self, plan: str) -> PlanLimits:
        """The limits of a job on ``plan`` ("free" or "premium")."""
        return self.premium_limits if plan == "premium" else self.free_limits

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.stack)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            stack=env.get("GAS_STACK", defaults.stack),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.region)),
            free_retention_seconds=_int(
                env, "GAS_FREE_RETENTION_SECONDS", defaults.free_retention_seconds
            ),
            free_upload_limit_bytes=_int(
                env, "GAS_FREE_UPLOAD_LIMIT_BYTES", defaults.free_upload_limit_bytes
            ),
            premium_upload_limit_bytes=_int(
                env, "GAS_PREMIUM_UPLOAD_LIMIT_BYTES", defaults.premium_upload_limit_bytes
            ),
            presigned_upload_seconds=_int(
                env, "GAS_PRESIGNED_UPLOAD_SECONDS", defaults.presigned_upload_seconds
            ),
            presigned_download_seconds=_int(
                env, "GAS_PRESIGNED_DOWNLOAD_SECONDS", defaults.presigned_download_seconds
            ),
            web_url=env.get("GAS_WEB_URL", defaults.web_url).rstrip("/"),
            mail_sender=env.get("GAS_MAIL_SENDER", defaults.mail_sender),
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            cold_storage=env.get("GAS_COLD_STORAGE") or defaults.cold_storage,
            restore_tier=env.get("GAS_RESTORE_TIER") or defaults.restore_tier,
            job_visibility_seconds=_int(
                env, "GAS_JOB_VISIBILITY_SECONDS", defaults.job_visibility_seconds
            ),
            free_limits=_limits(env, "GAS_FREE_", defaults.free_limits),
            premium_limits=_limits(env, "GAS_PREMIUM_", defaults.premium_limits),
        )


def _limits(env: Mapping[str, str], prefix: str, default: PlanLimits) -> PlanLimits:
    """A plan's limits from GAS_<PLAN>_INPUT_LIMIT_BYTES, _MAX_RECORDS, _JOB_SECONDS and
    _CHILD_MEMORY_BYTES; each must be positive."""
    values = {
        "input_bytes": _int(env, prefix + "INPUT_LIMIT_BYTES", default.input_bytes),
        "records": _int(env, prefix + "MAX_RECORDS", default.records),
        "seconds": _int(env, prefix + "JOB_SECONDS", default.seconds),
        "memory_bytes": _int(env, prefix + "CHILD_MEMORY_BYTES", default.memory_bytes),
    }
    if 0 in values.values():
        raise SettingsError(f"{prefix}* limits must be positive")
    return PlanLimits(**values)


def _check_web_url(url: str) -> None:
    """GAS_WEB_URL: where browsers reach the app (links in mail, CORS, the local web's port)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        raise SettingsError(f"GAS_WEB_URL {url!r} has a bad port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"GAS_WEB_URL must be an http(s) URL such as {Settings().web_url}, not {url!r}"
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value
