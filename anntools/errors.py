"""Errors the engine reports to people, never as a traceback."""

from __future__ import annotations


class AnnotationError(Exception):
    """The input cannot be annotated; the message says why, and where when known.

    ``line_no`` is the 1-based line of the input file that caused the error,
    or None when the problem is not tied to one line.
    """

    def __init__(self, message: str, line_no: int | None = None) -> None:
        self.line_no = line_no
        super().__init__(f"line {line_no}: {message}" if line_no else message)


class LimitExceeded(AnnotationError):
    """The input passed a limit its caller set (``--max-bytes``, ``--max-records``).

    ``limit`` names it (``max_bytes`` or ``max_records``) and ``value`` is its
    value, so that a supervising service can tell the user which limit and how
    large, and suggest what lifts it.
    """

    def __init__(self, limit: str, value: int, message: str) -> None:
        self.limit = limit
        self.value = value
        super().__init__(message)
