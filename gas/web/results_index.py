"""The variant table's index: an annotated TSV as a SQLite file, queried a page at a time.

A job's TSV (anntools: one row per ALT allele and consequence) lives in S3;
reading 100,000 rows per request would be far too slow, so each web instance
builds a SQLite file per job once, from a streaming read, and keeps it in a
local cache directory. Results are immutable, so the file never goes stale;
the caller still decides per request whether it may be shown (archived
results are not).

Queries take parameters only: filter values are bound, and the ORDER BY
clause is chosen from a fixed table of column lists (an unknown sort name
falls back to the default order), so no user text ever becomes SQL.

Coordinates: ``pos`` is the VCF's POS, 1-based, on the input's assembly;
``grch38`` is the lifted position as anntools wrote it (``chrN:pos``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gas.web.results_charts import chromosome_rank

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: MANE_SELECT, HGVSc, HGVSp and ClinVar columns
CACHE_ENV = "GAS_WEB_CACHE_DIR"
CACHE_BYTES_ENV = "GAS_WEB_CACHE_MAX_BYTES"
DEFAULT_CACHE_BYTES = 2 * 1024**3
# A request waits this long for a build it started (a small table is then shown at once);
# a bigger one finishes in the background while the page says "preparing".
PREPARE_WAIT_SECONDS = 2.0
RETRY_FAILED_BUILD_SECONDS = 60.0
PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100)
MAX_FILTER_CHARS = 100
BATCH = 5000

# TSV column → (index column, SQLite type). The TSV header must name all of these.
_COLUMNS = {
    "CHROM": "chrom",
    "POS": "pos",
    "ID": "vcf_id",
    "REF": "ref",
    "ALT": "alt",
    "Variant_class": "variant_class",
    "Ts_Tv": "ts_tv",
    "GRCh38": "grch38",
    "rsID": "rsid",
    "Consequence": "consequence",
    "Gene": "gene",
    "Transcript": "transcript",
    "Region": "region",
    "Protein_change": "protein_change",
    "DNA_change": "dna_change",
    "AF": "af",
}
# Columns of newer anntools TSVs: read when present, empty otherwise.
_OPTIONAL_COLUMNS = {
    "MANE_SELECT": "mane_select",
    "HGVSc": "hgvsc",
    "HGVSp": "hgvsp",
    "ClinVar": "clinvar",
}
_SCHEMA = """
CREATE TABLE variants (
    id INTEGER PRIMARY KEY,       -- the row's order in the TSV, from 1
    chrom TEXT NOT NULL, chrom_rank INTEGER NOT NULL, pos INTEGER NOT NULL,
    vcf_id TEXT NOT NULL, ref TEXT NOT NULL, alt TEXT NOT NULL,
    variant_class TEXT NOT NULL, ts_tv TEXT NOT NULL, grch38 TEXT NOT NULL,
    rsid TEXT NOT NULL, has_rsid INTEGER NOT NULL,
    consequence TEXT NOT NULL, gene TEXT NOT NULL, gene_key TEXT NOT NULL,
    transcript TEXT NOT NULL, region TEXT NOT NULL,
    protein_change TEXT NOT NULL, dna_change TEXT NOT NULL,
    mane_select TEXT NOT NULL, hgvsc TEXT NOT NULL, hgvsp TEXT NOT NULL, clinvar TEXT NOT NULL,
    af REAL,                      -- NULL when the input had no genotypes or AF
    af_up REAL NOT NULL,          -- af, or +1e300 when NULL: ascending order, NULLs last
    af_down REAL NOT NULL         -- af, or -1e300 when NULL: descending order, NULLs last
);
CREATE TABLE facets (kind TEXT NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL,
                     PRIMARY KEY (kind, value)) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
_INDEXES = """
CREATE INDEX by_position ON variants (chrom_rank, chrom, pos, id);
CREATE INDEX by_gene ON variants (gene_key, chrom_rank, chrom, pos, id);
CREATE INDEX by_consequence ON variants (consequence, chrom_rank, chrom, pos, id);
CREATE INDEX by_region ON variants (region, chrom_rank, chrom, pos, id);
CREATE INDEX by_af_up ON variants (af_up, id);
CREATE INDEX by_af_down ON variants (af_down, id);
CREATE INDEX by_rsid ON variants (has_rsid, chrom_rank, chrom, pos, id);
"""
_INSERT = (
    "INSERT INTO variants (id, chrom, chrom_rank, pos, vcf_id, ref, alt, variant_class, ts_tv,"
    " grch38, rsid, has_rsid, consequence, gene, gene_key, transcript, region, protein_change,"
    " dna_change, mane_select, hgvsc, hgvsp, clinvar, af, af_up, af_down)"
    " VALUES (" + ", ".join("?" * 26) + ")"
)

# The only ORDER BY clauses a query can have: (sort name, direction) → clause. Each one
# follows an index, so even the last page of 100,000 rows is a walk, not a sort.
_POSITION = ("chrom_rank", "chrom", "pos", "id")
SORTS: dict[str, dict[str, tuple[str, ...]]] = {
    "position": {"asc": _POSITION, "desc": _POSITION},
    "gene": {"asc": ("gene_key", *_POSITION), "desc": ("gene_key", *_POSITION)},
    "consequence": {"asc": ("consequence", *_POSITION), "desc": ("consequence", *_POSITION)},
    "af": {"asc": ("af_up", "id"), "desc": ("af_down", "id")},  # rows without AF last
}
DEFAULT_SORT = "position"
DIRECTIONS = {"asc": "ASC", "desc": "DESC"}
ORDER_BY: dict[tuple[str, str], str] = {
    (sort, direction): ", ".join(f"{column} {DIRECTIONS[direction]}" for column in columns)
    for sort, by_direction in SORTS.items()
    for direction, columns in by_direction.items()
}
RSID_FILTERS = {"yes": 1, "no": 0}
SELECTED = (
    "chrom, pos, vcf_id, ref, alt, variant_class, grch38, rsid, consequence, gene, "
    "transcript, region, protein_change, dna_change, mane_select, hgvsc, hgvsp, clinvar, af"
)


class IndexUnavailable(Exception):
    """The TSV could not be read or is not an anntools TSV; the message says why."""


@dataclass(frozen=True, slots=True)
class VariantQuery:
    """One table request: filters, sort and page, already normalised (see from_params)."""

    gene: str = ""
    consequence: str = ""
    region: str = ""
    rsid: str = ""  # "yes", "no" or "" (either)
    sort: str = DEFAULT_SORT
    direction: str = "asc"
    page: int = 1  # 1-based
    per_page: int = PER_PAGE

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> VariantQuery:
        """A query from untrusted request parameters: unknown values fall back to defaults."""

        def text(name: str) -> str:
            return str(params.get(name, "") or "").strip()[:MAX_FILTER_CHARS]

        sort = text("sort")
        direction = text("dir")
        rsid = text("rsid")
        try:
            page = int(text("page") or 1)
        except ValueError:
            page = 1
        try:
            per_page = int(text("per_page") or PER_PAGE)
        except ValueError:
            per_page = PER_PAGE
        return cls(
            gene=text("gene"),
            consequence=text("consequence"),
            region=text("region"),
            rsid=rsid if rsid in RSID_FILTERS else "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
            direction=direction if direction in DIRECTIONS else "asc",
            page=max(1, page),
            per_page=per_page if per_page in PER_PAGE_CHOICES else PER_PAGE,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.gene or self.consequence or self.region or self.rsid)

    def params(self, **changes: Any) -> dict[str, str]:
        """This query as URL parameters (defaults left out), with some values changed."""
        query = replace(self, **changes)
        values = {
            "gene": query.gene,
            "consequence": query.consequence,
            "region": query.region,
            "rsid": query.rsid,
            "sort": "" if query.sort == DEFAULT_SORT else query.sort,
            "dir": "" if query.direction == "asc" else query.direction,
            "per_page": "" if query.per_page == PER_PAGE else str(query.per_page),
            "page": "" if query.page == 1 else str(query.page),
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True, slots=True)
class VariantPage:
    """One page of rows, the filtered total, and the query as it was answered."""

    query: VariantQuery
    rows: list[dict[str, Any]]
    total: int  # rows matching the filters
    rows_in_job: int  # rows in the whole table
    pages: int  # at least 1
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def first_row(self) -> int:
        return (self.query.page - 1) * self.query.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _records(lines: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """Index rows from TSV lines (the first is the header); IndexUnavailable if not anntools'."""
    it = iter(lines)
    header = next(it, "").rstrip("\r\n").split("\t")
    missing = [name for name in _COLUMNS if name not in header]
    if missing:
        raise IndexUnavailable(f"not an anntools TSV (no column {missing[0]})")
    at = {name: header.index(name) for name in _COLUMNS}
    optional = [header.index(name) if name in header else None for name in _OPTIONAL_COLUMNS]
    width = len(header)
    for number, line in enumerate(it, start=1):
        line = line.rstrip("\r\n")
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        chrom = cells[at["CHROM"]]
        try:
            pos = int(cells[at["POS"]])
        except ValueError as exc:
            raise IndexUnavailable(f"line {number + 1}: POS is not a number") from exc
        rsid, gene = cells[at["rsID"]], cells[at["Gene"]]
        af = _float(cells[at["AF"]])
        yield (
            number,
            chrom,
            chromosome_rank(chrom),
            pos,
            cells[at["ID"]],
            cells[at["REF"]],
            cells[at["ALT"]],
            cells[at["Variant_class"]],
            cells[at["Ts_Tv"]],
            cells[at["GRCh38"]],
            rsid,
            1 if rsid else 0,
            cells[at["Consequence"]],
            gene,
            gene.upper(),
            cells[at["Transcript"]],
            cells[at["Region"]],
            cells[at["Protein_change"]],
            cells[at["DNA_change"]],
            *("" if index is None else cells[index] for index in optional),
            af,
            1e300 if af is None else af,
            -1e300 if af is None else af,
        )


def build_index(lines: Iterable[str], path: Path) -> int:
    """Write the SQLite index of a TSV's lines to ``path`` (which must not exist); row count.

    Rows go in as they stream by, in batches, in one transaction; the indexes
    and the facet counts (distinct consequences, regions, genes) come after.
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        db.execute("BEGIN")
        records = _records(lines)
        count = 0
        while True:
            batch = [row for _, row in zip(range(BATCH), records, strict=False)]
            if not batch:
                break
            db.executemany(_INSERT, batch)
            count += len(batch)
        for statement in filter(str.strip, _INDEXES.split(";")):
            db.execute(statement)  # (executescript would commit the transaction)
        for kind, column in (
            ("consequence", "consequence"),
            ("region", "region"),
            ("gene", "gene"),
        ):
            db.execute(  # the column names are constants, never request text
                f"INSERT INTO facets SELECT ?, {column}, COUNT(*) FROM variants "
                f"WHERE {column} != '' GROUP BY {column}",
                (kind,),
            )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", str(FORMAT_VERSION)), ("rows", str(count))],
        )
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()
    return count


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` skips locking (the file never changes once built)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def facets(db: sqlite3.Connection, kind: str, limit: int = 200) -> list[tuple[str, int]]:
    """The commonest values of a facet (consequence, region, gene) with their row counts."""
    found = db.execute(
        "SELECT value, count FROM facets WHERE kind = ? ORDER BY count DESC, value LIMIT ?",
        (kind, limit),
    ).fetchall()
    return [(str(value), int(count)) for value, count in found]


def query_variants(path: Path, query: VariantQuery, *, with_facets: bool = True) -> VariantPage:
    """One page of the index at ``path`` for ``query``; the page is clamped to the last one."""
    where: list[str] = []
    args: list[str | int] = []
    if query.gene:
        where.append("gene_key = ?")
        args.append(query.gene.upper())
    if query.consequence:
        where.append("consequence = ?")
        args.append(query.consequence)
    if query.region:
        where.append("region = ?")
        args.append(query.region)
    if query.rsid in RSID_FILTERS:
        where.append("has_rsid = ?")
        args.append(RSID_FILTERS[query.rsid])
    condition = (" WHERE " + " AND ".join(where)) if where else ""
    order = ORDER_BY.get((query.sort, query.direction), ORDER_BY[DEFAULT_SORT, "asc"])
    per_page = query.per_page if query.per_page in PER_PAGE_CHOICES else PER_PAGE
    # Only constants go into the SQL text: the WHERE terms above, the whitelisted ORDER BY.
    with contextlib.closing(_connect(path)) as db:
        db.row_factory = sqlite3.Row
        rows_in_job = int(db.execute("SELECT value FROM meta WHERE key = 'rows'").fetchone()[0])
        total = (
            int(db.execute(f"SELECT COUNT(*) FROM variants{condition}", args).fetchone()[0])
            if where
            else rows_in_job
        )
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, query.page), pages)
        found = db.execute(
            f"SELECT {SELECTED} FROM variants{condition} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, per_page, (page - 1) * per_page],
        ).fetchall()
        kinds = ("consequence", "region", "gene") if with_facets else ()
        found_facets = {kind: facets(db, kind) for kind in kinds}
    return VariantPage(
        query=replace(query, page=page, per_page=per_page),
        rows=[dict(row) for row in found],
        total=total,
        rows_in_job=rows_in_job,
        pages=pages,
        facets=found_facets,
    )


def default_cache_dir() -> Path:
    """GAS_WEB_CACHE_DIR, else a per-user folder in the system's temp dir."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    return Path(tempfile.gettempdir()) / f"gas-web-cache-{os.getuid()}"


def default_cache_bytes() -> int:
    """GAS_WEB_CACHE_MAX_BYTES, else DEFAULT_CACHE_BYTES: the bound on the index files."""
    given = os.environ.get(CACHE_BYTES_ENV)
    return int(given) if given else DEFAULT_CACHE_BYTES


class IndexCache:
    """Per-job index files in one directory, built off the request and shared by processes.

    One build per file at a time: builders take an exclusive ``flock`` on a
    lock file beside it (it also excludes threads, which open it separately),
    write to a unique temporary name and rename it into place, so readers see
    either no file or a whole one. A builder that died mid-build (a killed web
    worker) leaves a ``.part`` named after its pid; it is removed once that pid
    is gone. The files stay under ``max_bytes``: the least recently used go
    first (a use touches its file).
    """

    def __init__(self, root: Path, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._building: dict[str, threading.Thread] = {}
        self._failed: dict[str, float] = {}  # job id -> when its last build failed
        self.remove_dead_parts()

    def path_for(self, job_id: str) -> Path:
        if not job_id or not all(c in "0123456789abcdef-" for c in job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / f"{job_id}.v{FORMAT_VERSION}.sqlite"

    def ensure(self, job_id: str, open_lines: Any) -> Path:
        """The index for this job, built from ``open_lines()`` (an iterable of TSV lines) if new."""
        final = self.path_for(job_id)
        if final.exists():
            return final
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(final.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if final.exists():  # another builder finished while we waited
                    return final
                self.remove_dead_parts()
                part = final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex}.part")
                try:
                    build_index(open_lines(), part)
                    os.replace(part, final)
                finally:
                    part.unlink(missing_ok=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return final

    def evict(self, job_id: str) -> None:
        """Forget a job's index (its results were archived): the next use rebuilds it."""
        self.path_for(job_id).unlink(missing_ok=True)

    def prepare(self, job_id: str, open_lines: Any) -> tuple[str, Path | None]:
        """("ready", path) when the index is built; else its build runs in a background
        thread (one per job) and this answers ("preparing", None) after a short wait,
        or ("unavailable", None) when a build failed in the last minute."""
        final = self.path_for(job_id)
        if final.exists():
            with contextlib.suppress(OSError):
                os.utime(final)  # recently used: pruned last
            return "ready", final
        with self._lock:
            failed_at = self._failed.get(job_id)
            if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_BUILD_SECONDS:
                return "unavailable", None
            builder = self._building.get(job_id)
            if builder is None:
                builder = threading.Thread(
                    target=self._build, args=(job_id, open_lines), name=f"index-{job_id}"
                )
                builder.daemon = True
                self._building[job_id] = builder
                builder.start()
        builder.join(PREPARE_WAIT_SECONDS)
        if final.exists():
            return "ready", final
        with self._lock:
            return ("unavailable", None) if job_id in self._failed else ("preparing", None)

    def _build(self, job_id: str, open_lines: Any) -> None:
        try:
            self.ensure(job_id, open_lines)
            with self._lock:
                self._failed.pop(job_id, None)
            self.prune(keep=self.path_for(job_id))
        except Exception as exc:
            log.warning("job %s: the variant table index could not be built (%s)", job_id, exc)
            with self._lock:
                self._failed[job_id] = time.monotonic()
        finally:
            with self._lock:
                self._building.pop(job_id, None)

    def prune(self, keep: Path | None = None) -> None:
        """Delete the least recently used index files until they fit in ``max_bytes``."""
        files = []
        for path in self.root.glob(f"*.v{FORMAT_VERSION}.sqlite"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size

    def remove_dead_parts(self) -> None:
        """Remove ``.part`` files whose builder process no longer exists."""
        if not self.root.is_dir():
            return
        for part in self.root.glob(".*.part"):
            pid = _builder_pid(part.name)
            if pid is not None and not _alive(pid):
                part.unlink(missing_ok=True)


def _builder_pid(name: str) -> int | None:
    """The pid in ``.<final>.<pid>.<hex>.part``, or None."""
    pieces = name.split(".")
    try:
        return int(pieces[-3])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
