"""Types of the record loop's line parsing (see _parsing.pyx; import from anntools.recordloop)."""

from collections.abc import Callable
from typing import Any

def next_event(
    lines: list[bytes],
    start: int,
    spans: dict[bytes, Any],
    spans_of: Callable[[bytes], Any],
    held_chrom: bytes | None,
    reach: int,
) -> tuple[int, bytes, int, int] | None: ...
