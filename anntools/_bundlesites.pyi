"""Types of the default bundle's compiled lookups (see _bundlesites.pyx)."""

from collections.abc import Callable

from anntools._recordloop import SiteLike, SiteSource
from anntools._rendering import RenderedEntry
from anntools.annotation import Entry
from anntools.bundle.reader import Bundle
from anntools.model import GeneHit

class _Site:
    entries: list[Entry | RenderedEntry]
    rsid: str | None
    grch38: tuple[str, int] | None
    unmapped: bool

class GrchSites:
    def __init__(
        self,
        bundle: Bundle,
        mane: bool = True,
        grch38_name: Callable[[str], str | None] | None = None,
        fallback: SiteSource | None = None,
    ) -> None: ...
    def __call__(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, line_no: int = 0
    ) -> SiteLike: ...
    def entries(
        self, chrom: str, pos: int, ref: str, alts: list[str], lifted_alts: list[str], mane: bool
    ) -> list[Entry]: ...
    def rendered_entries(
        self, chrom: str, pos: int, ref: str, alts: list[str], lifted_alts: list[str], mane: bool
    ) -> list[Entry | RenderedEntry]: ...
    def gene_hits(self, chrom: str, pos: int, end: int) -> list[GeneHit]: ...
    def rsid(self, chrom: str, pos: int, ref: str, alts: list[str]) -> str | None: ...
