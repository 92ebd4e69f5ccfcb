"""Types of the record loop's output module (see _rendering.pyx) that Python code meets."""

from anntools.annotation import Entry

class RenderedEntry:
    """An entry its source rendered (anntools._bundlesites gives these to the record loop)."""

    allele: bytes
    counted: Entry
    def __init__(
        self, allele: bytes, info_tail: bytes, tsv_tail: bytes, counted: Entry
    ) -> None: ...
    @property
    def texts(self) -> tuple[str, str]: ...
