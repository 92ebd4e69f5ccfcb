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
