"""``make bundle-full``: download a pinned Ensembl release (optionally ClinVar, dbSNP), build it.

``python -m anntools.bundle.download [--dir DIR] [-o BUNDLE] [--clinvar] [--dbsnp] [--pin]``

The files and their sha256 sums are listed in data/bundle-full-sources.tsv
(name, url, sha256). A download is written as ``<file>.part`` and renamed
once its sha256 matches the pinned one, so an interrupted or corrupted
download never passes for a good one; files already present and matching
are not fetched again. A row whose sha256 reads ``unpinned`` has not been
fetched from a machine with internet yet: ``--pin`` downloads it and writes
the sum it found into the table (review and commit that change), and
without ``--pin`` such a file is refused.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from anntools.bundle.format import BundleError
from anntools.bundle.paths import cache_root

SOURCES_TABLE = Path(__file__).resolve().parents[2] / "data" / "bundle-full-sources.tsv"
UNPINNED = "unpinned"
REQUIRED = ("gff3", "fasta")
OPTIONAL = ("clinvar", "dbsnp", "assembly_report")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
TIMEOUT_S = 60


@dataclass(frozen=True)
class Source:
    """One file to download: its role, where from, and its pinned sha256 (or UNPINNED)."""

    name: str
    url: str
    sha256: str

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def read_sources(table: Path = SOURCES_TABLE) -> dict[str, Source]:
    """The table's rows by name; BundleError when a row is malformed."""
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    sources: dict[str, Source] = {}
    for line_no, row in enumerate(rows, start=2):
        source = Source(row["name"], row["url"], row["sha256"])
        if source.name not in REQUIRED + OPTIONAL or source.name in sources:
            raise BundleError(
                f"{table.name} line {line_no}: unknown or repeated name {source.name!r}"
            )
        if not source.url.startswith("https://"):
            raise BundleError(f"{table.name} line {line_no}: the URL must be https")
        if source.sha256 != UNPINNED and not _SHA256.match(source.sha256):
            raise BundleError(
                f"{table.name} line {line_no}: sha256 must be 64 hex digits or {UNPINNED}"
            )
        sources[source.name] = source
    missing = [name for name in REQUIRED if name not in sources]
    if missing:
        raise BundleError(f"{table.name} lacks {', '.join(missing)}")
    return sources


def fetch(source: Source, directory: Path, pin: bool = False) -> tuple[Path, str]:
    """The file of ``source`` in ``directory``, downloaded if missing; returns it and its sha256.

    A pinned file must match its sha256; an unpinned one is accepted only with ``pin``.
    """
    if source.sha256 == UNPINNED and not pin:
        raise BundleError(
            f"{source.file_name} has no pinned sha256 in {SOURCES_TABLE.name}: run with --pin "
            "once on a machine with internet, then commit the sums it writes"
        )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / source.file_name
    if target.is_file():
        found = _sha256(target)
        if found == source.sha256 or (pin and source.sha256 == UNPINNED):
            return target, found
        target.unlink()  # a stale or damaged copy: fetch it again
    found = _download(source.url, target)
    if source.sha256 != UNPINNED and found != source.sha256:
        target.unlink()
        raise BundleError(
            f"{source.file_name}: sha256 {found} differs from the pinned {source.sha256}; "
            "the download is damaged or the file changed upstream"
        )
    return target, found


def _download(url: str, target: Path) -> str:
    """Stream ``url`` into ``target`` through a ``.part`` file; returns the sha256."""
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(part, "wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as error:
        part.unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise BundleError(
            f"cannot download {url}: {reason}. Check the network, or put the file at {target}"
        ) from None
    part.replace(target)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_pins(found: dict[str, str], table: Path = SOURCES_TABLE) -> None:
    """Record the sums found for unpinned rows in the table."""
    sources = read_sources(table)
    rows = [
        (s.name, s.url, found.get(s.name, s.sha256) if s.sha256 == UNPINNED else s.sha256)
        for s in sources.values()
    ]
    lines = ["name\turl\tsha256", *("\t".join(row) for row in rows)]
    table.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m anntools.bundle.download", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dir", type=Path, default=cache_root() / "downloads", help="where downloads go"
    )
    parser.add_argument("-o", "--out", type=Path, default=cache_root() / "bundles" / "full-ensembl")
    parser.add_argument(
        "--clinvar", action="store_true", help="add ClinVar's VCF as known variants"
    )
    parser.add_argument("--dbsnp", action="store_true", help="add dbSNP's VCF (tens of GB) too")
    parser.add_argument(
        "--pin", action="store_true", help="accept unpinned files; record their sums"
    )
    args = parser.parse_args(argv)
    try:
        sources = read_sources()
        wanted = [
            *REQUIRED,
            *(["clinvar"] if args.clinvar else []),
            *(["dbsnp", "assembly_report"] if args.dbsnp else []),
        ]
        paths: dict[str, Path] = {}
        found: dict[str, str] = {}
        for name in wanted:
            paths[name], found[name] = fetch(sources[name], args.dir, args.pin)
            print(f"{name}: {paths[name]} sha256 {found[name]}")
        if args.pin:
            write_pins(found)
        from anntools.bundle.full import build_full_bundle

        known = [paths[name] for name in ("clinvar", "dbsnp") if name in paths]
        out = build_full_bundle(
            paths["gff3"], paths["fasta"], args.out, known, paths.get("assembly_report")
        )
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"full bundle ready at {out}; annotate with --bundle {out} or set ANNTOOLS_BUNDLE_DIR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
