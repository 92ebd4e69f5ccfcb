"""Types of the compiled record loop (see _recordloop.pyx; import it from anntools.recordloop)."""

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from anntools._rendering import RenderedEntry
from anntools.annotation import Entry
from anntools.csq import TranscriptAnnotator
from anntools.model import Consequence

Problem = tuple[int, str, bool]  # line_no, reason, skipped (False: a warning, record kept)
Run = tuple[str, int, int, int]  # chrom, first_line_no, first_pos, max_pos

class SiteLike(Protocol):
    @property
    def entries(self) -> Sequence[Entry | RenderedEntry]: ...
    @property
    def rsid(self) -> str | None: ...
    @property
    def grch38(self) -> tuple[str, int] | None: ...
    @property
    def unmapped(self) -> bool: ...

SiteSource = Callable[[str, int, str, list[str], bool, int], SiteLike]  # ..., line_no

class RecordLoop:
    def __init__(
        self,
        header_text: str,
        check_line: Callable[[list[str]], str | None],
        sites: SiteSource | None = None,
        transcripts: TranscriptAnnotator | None = None,
    ) -> None: ...
    def annotate(
        self,
        lines: list[bytes],
        first_line_no: int,
        overrides: dict[int, dict[int, dict[str, list[Consequence | None]]]] | None = None,
    ) -> tuple[bytes, bytes, dict[str, Any], list[Problem], list[Run]]: ...
