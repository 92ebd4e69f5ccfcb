"""S3 object keys: ``<user_id>/<job_id>~<input file name>``, and the result keys beside it.

Pure functions, no AWS: the key is the contract between the browser's upload,
the registration and the annotator, so it is built and parsed only here.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from anntools.output import RESULT_SUFFIXES, result_stem

MAX_FILE_NAME_LENGTH = 200
_USER_ID = re.compile(r"[A-Za-z0-9_.@:+=-]{1,128}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_INPUT_KEY = re.compile(r"(?P<user_id>[^/]+)/(?P<job_id>[0-9a-f-]{36})~(?P<file_name>[^/]+)")


class BadKey(ValueError):
    """A file name, user id or object key that GAS will not use; the message says why."""


@dataclass(frozen=True, slots=True)
class InputKey:
    """The parts of an input object key."""

    user_id: str
    job_id: str
    file_name: str

    @property
    def key(self) -> str:
        return f"{self.user_id}/{self.job_id}~{self.file_name}"


def check_user_id(user_id: str) -> str:
    """The user id unchanged, if it can be a key prefix (no '/', no spaces)."""
    if not _USER_ID.fullmatch(user_id):
        raise BadKey(f"user id {user_id!r} cannot be used in an object key")
    return user_id


def safe_file_name(file_name: str) -> str:
    """A browser-supplied file name reduced to a safe basename.

    Folders (either slash) are dropped, accents folded to ASCII, and runs of
    anything but letters, digits, '.', '_' and '-' become '_'. Refuses names
    that end up empty, hidden (leading '.'), or longer than 200 characters.
    """
    base = re.split(r"[\\/]", file_name.strip())[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    safe = _UNSAFE_CHARACTERS.sub("_", ascii_name).strip("_")
    if not safe or not _SAFE_NAME.fullmatch(safe):
        raise BadKey(f"{file_name!r} is not a usable file name")
    if len(safe) > MAX_FILE_NAME_LENGTH:
        raise BadKey(f"file name is longer than {MAX_FILE_NAME_LENGTH} characters")
    return safe


def new_input_key(user_id: str, file_name: str) -> InputKey:
    """A key for a new upload, with a fresh job_id (uuid4)."""
    return InputKey(check_user_id(user_id), str(uuid.uuid4()), safe_file_name(file_name))


def looks_like_job_id(job_id: str) -> bool:
    """True when ``job_id`` has a job id's shape (a lowercase uuid), so it is worth a look-up."""
    return len(job_id) == 36 and all(c in "0123456789abcdef-" for c in job_id)


def parse_input_key(key: str) -> InputKey:
    """Split an input key into user_id, job_id and file name; BadKey if it is not one of ours."""
    match = _INPUT_KEY.fullmatch(key)
    if not match:
        raise BadKey(f"{key!r} is not an input key (<user_id>/<job_id>~<file name>)")
    try:
        job_id = uuid.UUID(match["job_id"])
    except ValueError:
        raise BadKey(f"{key!r} does not hold a job id") from None
    if str(job_id) != match["job_id"] or job_id.version != 4:
        raise BadKey(f"{key!r} does not hold a job id")
    parsed = InputKey(check_user_id(match["user_id"]), match["job_id"], match["file_name"])
    if safe_file_name(parsed.file_name) != parsed.file_name:
        raise BadKey(f"{key!r} holds an unsafe file name")
    return parsed


def result_key_names(input_key: InputKey) -> dict[str, str]:
    """Result keys by kind (vcf, log, tsv, summary): the input key's stem plus anntools' suffix."""
    prefix = f"{input_key.user_id}/{input_key.job_id}~{result_stem(input_key.file_name)}"
    return {kind: prefix + suffix for kind, suffix in RESULT_SUFFIXES.items()}
