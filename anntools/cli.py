"""The ``anntools`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from anntools import __version__
from anntools.bundle.__main__ import add_build_arguments, run_build
from anntools.errors import AnnotationError
from anntools.pipeline import Options, annotate_file
from anntools.vcf import ProgressCallback


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anntools", description="Annotate VCF files with genes, consequences and rsIDs."
    )
    parser.add_argument("--version", action="version", version=f"anntools {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    annotate = commands.add_parser("annotate", help="annotate one VCF file")
    annotate.add_argument("input", type=Path, help="VCF file: plain, gzip or bgzip")
    annotate.add_argument("-o", "--outdir", type=Path, required=True, help="folder for results")
    annotate.add_argument(
        "--assembly",
        help="input assembly (GRCh38, GRCh37/hg19, NCBI36/hg18, rCRS); "
        "detected from the header when omitted",
    )
    annotate.add_argument("--gff", type=Path, help="Ensembl-style GFF3 for transcript consequences")
    annotate.add_argument("--fasta", type=Path, help="reference FASTA matching --gff")
    annotate.add_argument(
        "--bundle", help="annotation bundle folder, or 'none' to skip gene-level annotation"
    )
    annotate.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: one per core, up to 4, for inputs over 1 MiB)",
    )
    annotate.add_argument(
        "--progress",
        choices=("auto", "bar", "json", "none"),
        default="auto",
        help="progress bar (default: when stderr is a terminal); json: one line per chunk "
        'on stderr, {"records": n, "bytes_read": n, "bytes_total": n}, for a supervising process',
    )
    bundle = commands.add_parser("bundle", help="build annotation bundles")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", required=True)
    add_build_arguments(
        bundle_commands.add_parser(
            "build", help="the GRCh38 default bundle, or a full one from --gff3 and --fasta"
        )
    )
    return parser


def _options(args: argparse.Namespace) -> Options:
    use_bundle = args.bundle != "none"
    return Options(
        assembly=args.assembly,
        gff3=args.gff,
        fasta=args.fasta,
        bundle_dir=Path(args.bundle) if use_bundle and args.bundle else None,
        use_bundle=use_bundle,
        workers=args.workers,
    )


def _progress_bar(enabled: bool, total_bytes: int) -> tuple[ProgressCallback | None, object]:
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total_bytes, unit="B", unit_scale=True, desc="annotating", file=sys.stderr)

    def update(records: int, bytes_read: int, _total: int) -> None:
        bar.n = bytes_read
        bar.set_postfix(records=records, refresh=False)
        bar.refresh()

    return update, bar


def _json_progress(records: int, bytes_read: int, bytes_total: int) -> None:
    line = {"records": records, "bytes_read": bytes_read, "bytes_total": bytes_total}
    print(json.dumps(line), file=sys.stderr, flush=True)


def annotate_command(args: argparse.Namespace) -> int:
    if not args.input.is_file():
        print(f"anntools: no such file: {args.input}", file=sys.stderr)
        return 2
    show = args.progress == "bar" or (args.progress == "auto" and sys.stderr.isatty())
    progress, bar = _progress_bar(show, args.input.stat().st_size)
    if args.progress == "json":
        progress = _json_progress
    try:
        result = annotate_file(args.input, args.outdir, _options(args), progress)
    except AnnotationError as exc:
        print(f"anntools: {args.input.name}: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()  # type: ignore[attr-defined]
    data = result.summary
    print(
        f"{data['records']} variants annotated, {data['skipped_lines']['total']} lines skipped; "
        f"results in {args.outdir}"
    )
    for path in result.files.values():
        print(f"  {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "annotate":
        return annotate_command(args)
    if args.command == "bundle":
        return run_build(args)
    return 2
