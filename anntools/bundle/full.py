"""Full bundles: transcripts with genome sequence, for complete consequences and known variants.

Built by ``anntools bundle build --gff3 GFF3 --fasta FASTA [--known-variants VCF]... -o DIR``
from an Ensembl/GENCODE GFF3 and the FASTA of the same assembly. A full bundle
is a directory::

    manifest.json        format, sources (file names, sha256), contig lengths, counts
    transcripts.gff3.gz  the GFF3, as given (gzip)
    transcripts.pickle   the GFF3's transcripts as anntools.csq reads them, pickled:
                         loading them is ten times faster than parsing the GFF3
                         (the fallback when another version of the reader wrote them)
    names.json           per transcript ID: its versioned ID, its protein's, and its rank
                         (0 MANE Select, 1 Ensembl canonical, 2 other; for HGVS)
    genome.fa.gz         the FASTA, rewrapped and bgzipped, with genome.fa.gz.fai and .gzi
                         (format version 1 kept it uncompressed as genome.fa, with .fai)
    known_*.npy          known alleles with rsID and ClinVar significance (anntools.bundle.known)

``anntools annotate --bundle DIR`` then calls transcript consequences (the
engine of anntools.csq) and looks up rsIDs and ClinVar significance.
The build writes into a temporary sibling directory and renames it into place
at the end: a failed build leaves no bundle (and any older one untouched).

The manifest's ``format_version`` says how to read the rest. This anntools
writes version 2 and reads versions 1 and 2; a bundle of a later version is
refused with a message asking for a newer anntools or a rebuild.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anntools.bundle.format import MANIFEST, BundleError
from anntools.bundle.known import (
    ARRAYS as KNOWN_ARRAYS,
)
from anntools.bundle.known import (
    ContigNamer,
    KnownVariants,
    KnownVariantTable,
    read_assembly_report,
)
from anntools.bundle.sequence import BgzfFastaReader, copy_fasta, open_text
from anntools.csq import TranscriptAnnotator, normalize_chrom
from anntools.csq import gff3 as gff3_module
from anntools.csq.fasta import FastaReader
from anntools.csq.gff3 import Transcript, read_gff3

FULL_FORMAT = "anntools-full-bundle"
FULL_FORMAT_VERSION = 2  # 2: the genome bgzipped (genome.fa.gz), read through pysam
READABLE_VERSIONS = (1, 2)
GFF3_NAME = "transcripts.gff3.gz"
PICKLE_NAME = "transcripts.pickle"
NAMES_NAME = "names.json"
MANE_RANK, CANONICAL_RANK, OTHER_RANK = 0, 1, 2
FASTA_NAME = "genome.fa.gz"
PLAIN_FASTA_NAME = "genome.fa"  # format version 1

log = logging.getLogger(__name__)


def is_full_bundle(path: Path) -> bool:
    """Whether ``path`` holds a full bundle's manifest."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FULL_FORMAT


class FullBundle:
    """A loaded full bundle: the transcript annotator and the known variants."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.contig_lengths: dict[str, int] = manifest["contigs"]
        self.transcripts = TranscriptAnnotator(_load_transcripts(path, manifest), _genome(path))
        self._names: dict[str, list[str]] = _read_names(path)
        self._ranks = {tid: int(names[2]) for tid, names in self._names.items() if len(names) > 2}
        known = manifest["known_variants"]
        self.known: KnownVariants | None = None
        if known["count"]:
            arrays = {name: _load_array(path, name) for name in KNOWN_ARRAYS}
            self.known = KnownVariants(arrays, known)

    def versioned(self, transcript: str) -> str:
        """``ENST00000288602.11`` for ``ENST00000288602`` (the ID as is when the GFF3 has no
        version)."""
        names = self._names.get(transcript)
        return names[0] if names else transcript

    def protein(self, transcript: str) -> str:
        """The ID of the transcript's protein (``ENSP...``), else the transcript's own."""
        names = self._names.get(transcript)
        return names[1] if names and names[1] else self.versioned(transcript)

    def rank(self, transcript: str) -> int:
        """0 for a MANE Select transcript, 1 for Ensembl's canonical one, 2 for the others."""
        return self._ranks.get(transcript, OTHER_RANK)

    @classmethod
    def load(cls, path: Path) -> FullBundle:
        path = Path(path)
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError) as error:
            raise BundleError(f"no readable full bundle at {path}: {error}") from None
        version = manifest.get("format_version")
        if version not in READABLE_VERSIONS:
            raise BundleError(
                f"{path} is a full bundle of format version {version}; this anntools reads "
                f"versions {', '.join(map(str, READABLE_VERSIONS))}: use the anntools that "
                "built it, or rebuild it with this one"
            )
        return cls(path, manifest)


def _genome(path: Path) -> FastaReader:
    """The bundle's genome: bgzipped (format 2), or plain and memory-mapped (format 1)."""
    if (path / FASTA_NAME).is_file():
        return BgzfFastaReader(path / FASTA_NAME)
    if (path / PLAIN_FASTA_NAME).is_file():
        return FastaReader(path / PLAIN_FASTA_NAME)
    raise BundleError(f"full bundle {path} lacks its genome ({FASTA_NAME}); rebuild it")


def _read_names(path: Path) -> dict[str, list[str]]:
    try:
        names: dict[str, list[str]] = json.loads((path / NAMES_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return names


def _load_transcripts(path: Path, manifest: dict[str, Any]) -> list[Transcript]:
    """The pickled transcripts when this anntools wrote them, else the GFF3 parsed again."""
    if manifest["transcripts"].get("reader") == _reader_fingerprint():
        try:
            with open(path / PICKLE_NAME, "rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, list):
                return loaded
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError) as error:
            log.warning("cannot read %s (%s); parsing the GFF3 instead", PICKLE_NAME, error)
    return read_gff3(path / GFF3_NAME)


def _reader_fingerprint() -> str:
    """The GFF3 reader's source digest: a pickle of transcripts is read back only by the
    classes that wrote it, so any change to them falls back to parsing the GFF3."""
    return hashlib.sha256(Path(gff3_module.__file__).read_bytes()).hexdigest()[:16]


def _load_array(path: Path, name: str) -> np.ndarray[Any, Any]:
    try:
        return np.asarray(np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False))
    except FileNotFoundError:
        raise BundleError(f"full bundle {path} lacks {name}.npy; rebuild it") from None


def build_full_bundle(
    gff3: Path,
    fasta: Path,
    out: Path,
    known_variants: Sequence[Path] = (),
    assembly_report: Path | None = None,
) -> Path:
    """Build a full bundle at ``out`` (replacing one there only when the build succeeds)."""
    for path in (gff3, fasta, *known_variants, *([assembly_report] if assembly_report else [])):
        if not Path(path).is_file():
            raise BundleError(f"no such file: {path}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        manifest = _write_full_bundle(gff3, fasta, known_variants, assembly_report, scratch)
        # Written last: its presence marks the bundle complete.
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        scratch.chmod(0o755)  # mkdtemp makes it private; workers of other users read it
        if out.exists():
            shutil.rmtree(out)
        os.replace(scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _write_full_bundle(
    gff3: Path,
    fasta: Path,
    known_variants: Sequence[Path],
    assembly_report: Path | None,
    scratch: Path,
) -> dict[str, Any]:
    lengths = copy_fasta(fasta, scratch / FASTA_NAME)
    regions, names = _copy_gff3(gff3, scratch / GFF3_NAME)
    (scratch / NAMES_NAME).write_text(json.dumps(names, separators=(",", ":")))
    transcripts = read_gff3(gff3)  # the copy holds the same lines; the log names the input
    _check_gene_models(gff3, transcripts, regions, lengths)
    with open(scratch / PICKLE_NAME, "wb") as handle:
        pickle.dump(transcripts, handle, protocol=pickle.HIGHEST_PROTOCOL)
    aliases = read_assembly_report(assembly_report) if assembly_report else None
    table = _known_variants(known_variants, lengths, aliases, scratch)
    arrays, ranges = table.arrays(list(lengths))
    for name, values in arrays.items():
        np.save(scratch / f"{name}.npy", np.ascontiguousarray(values), allow_pickle=False)
    return {
        "format": FULL_FORMAT,
        "format_version": FULL_FORMAT_VERSION,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": {
            "gff3": {"file": gff3.name, "sha256": _sha256(gff3)},
            "fasta": {"file": fasta.name, "sha256": _sha256(fasta)},
            "known_variants": [stats.summary() for stats in table.sources],
        },
        "contigs": lengths,
        "transcripts": {
            "count": len(transcripts),
            "coding": sum(tr.coding for tr in transcripts),
            "reader": _reader_fingerprint(),  # of the pickle's classes
        },
        "known_variants": {
            "count": len(arrays["known_pos"]),
            "chroms": ranges,
            "clinvar": table.clinvar_terms,
        },
        "coordinates": "known_pos: 1-based VCF POS; transcripts as in the GFF3 (1-based closed)",
    }


def _copy_gff3(source: Path, target: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Copy the GFF3 (plain or gzip) gzip-compressed; returns its ##sequence-region ends
    and, per transcript ID, [versioned ID, protein ID] (see TranscriptNames)."""
    regions: dict[str, int] = {}
    names = TranscriptNames()
    try:
        with open_text(source) as lines, gzip.open(target, "wt", compresslevel=6) as out:
            for line in lines:
                if line.startswith("##sequence-region"):
                    fields = line.split()
                    if len(fields) == 4 and fields[3].isdigit():
                        regions[fields[1]] = int(fields[3])
                elif not line.startswith("#"):
                    names.add(line)
                out.write(line)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise BundleError(f"cannot read GFF3 {source}: {error or 'the file ends early'}") from None
    return regions, names.table


class TranscriptNames:
    """Versioned transcript IDs and protein IDs, as HGVS notation names them, and ranks.

    Ensembl writes ``ID=transcript:ENST00000288602;...;version=11`` on the
    transcript and ``protein_id=ENSP00000288602`` on its CDS; GENCODE writes the
    versions into the IDs themselves. Both tag the gene's chosen transcripts
    (``tag=basic,Ensembl_canonical,MANE_Select``).
    """

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}

    def add(self, line: str) -> None:
        columns = line.rstrip("\n").split("\t")
        if len(columns) < 9:
            return
        attributes = dict(item.partition("=")[::2] for item in columns[8].split(";"))
        if columns[2] == "CDS" and "protein_id" in attributes:
            for parent in attributes.get("Parent", "").split(","):
                self._entry(parent)[1] = attributes["protein_id"]
        elif _is_transcript(columns[2], attributes):
            version = attributes.get("version", "")
            entry = self._entry(attributes["ID"])
            entry[0] += f".{version}" if version and "." not in entry[0] else ""
            tags = attributes.get("tag", "").split(",")
            rank = MANE_RANK if "MANE_Select" in tags else OTHER_RANK
            entry[2] = str(CANONICAL_RANK if rank and "Ensembl_canonical" in tags else rank)

    def _entry(self, feature_id: str) -> list[str]:
        transcript = feature_id.removeprefix("transcript:")
        return self.table.setdefault(transcript, [transcript, "", str(OTHER_RANK)])


_PART_TYPES = frozenset({"exon", "CDS", "five_prime_UTR", "three_prime_UTR"})


def _is_transcript(feature_type: str, attributes: dict[str, str]) -> bool:
    """A transcript line: Ensembl's ``ID=transcript:...``, or GENCODE's line with a transcript_id
    that is not one of a transcript's parts."""
    if "ID" not in attributes or feature_type in _PART_TYPES:
        return False
    return attributes["ID"].startswith("transcript:") or "transcript_id" in attributes


def _check_gene_models(
    gff3: Path, transcripts: list[Transcript], regions: dict[str, int], lengths: dict[str, int]
) -> None:
    """The GFF3 must have transcripts, all on the FASTA's contigs and within their lengths."""
    if not transcripts:
        raise BundleError(f"GFF3 {gff3} holds no transcripts (Ensembl/GENCODE GFF3 expected)")
    by_short = {normalize_chrom(name): length for name, length in lengths.items()}
    missing = sorted({tr.chrom for tr in transcripts if normalize_chrom(tr.chrom) not in by_short})
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise BundleError(
            f"GFF3 contigs not in the FASTA: {shown}; the GFF3 and FASTA must be of one assembly "
            f"(FASTA contigs: {', '.join(list(lengths)[:5])}...)"
        )
    for name, end in regions.items():
        length = by_short.get(normalize_chrom(name))
        if length is not None and length != end:
            raise BundleError(
                f"the GFF3 gives {name} {end:,} bp (##sequence-region), the FASTA {length:,}: "
                + ("the FASTA is truncated" if length < end else "they are of different assemblies")
            )
    _check_within_contigs(transcripts, by_short)


def _check_within_contigs(transcripts: list[Transcript], lengths: dict[str, int]) -> None:
    """A transcript wholly past its contig's end means a cut FASTA (or another assembly's);
    one reaching past it is only warned about (test references are often cut around a gene)."""
    past = [tr for tr in transcripts if tr.end >= lengths[normalize_chrom(tr.chrom)]]
    for tr in past:
        length = lengths[normalize_chrom(tr.chrom)]
        if tr.beg >= length:
            raise BundleError(
                f"transcript {tr.id} starts at {tr.chrom}:{tr.beg + 1:,}, past the FASTA's "
                f"{length:,} bases: the FASTA is truncated or of another assembly"
            )
    if past:
        log.warning(
            "%d transcripts reach past their contig's end in the FASTA (e.g. %s); "
            "bases there read as N",
            len(past),
            past[0].id,
        )


def _known_variants(
    paths: Sequence[Path], lengths: dict[str, int], aliases: dict[str, str] | None, scratch: Path
) -> KnownVariantTable:
    sequence = BgzfFastaReader(scratch / FASTA_NAME)
    table = KnownVariantTable(ContigNamer(lengths, aliases), sequence.fetcher)
    for path in paths:
        stats = table.add_vcf(Path(path))
        log.info(
            "%s: %d records, %d alleles kept, %d on contigs not in the bundle, %d REF mismatches",
            stats.file,
            stats.records,
            stats.kept,
            stats.unknown_contig,
            stats.ref_mismatch,
        )
    return table


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
