"""The ``anntools`` command line."""

from __future__ import annotations

import argparse
import json
import resource
import sys
from collections.abc import Sequence
from pathlib import Path

from anntools import __version__
from anntools.bundle.__main__ import add_build_arguments, run_build
from anntools.errors import AnnotationError, LimitExceeded
from anntools.pipeline import Options, annotate_file
from anntools.vcf import ProgressCallback

BAD_INPUT_EXIT = 1  # the input cannot be annotated; the reason is on stderr
USAGE_EXIT = 2
LIMIT_EXIT = 3  # the input passed --max-bytes or --max-records; the reason is on stderr


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
    annotate.add_argument(
        "--gff",
        type=Path,
        help="Ensembl-style GFF3 for transcript consequences; with --fasta the reference is "
        "that FASTA: no assembly detection, liftover or default bundle unless asked for",
    )
    annotate.add_argument("--fasta", type=Path, help="reference FASTA matching --gff")
    annotate.add_argument(
        "--local",
        action="store_true",
        help="call each record on its own (bcftools csq -l); by default phased variants "
        "of one haplotype that share a codon are called together",
    )
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
        'on stderr, {"records": n, "bytes_read": n, "bytes_total": n}, for a supervising process; '
        'a limit passed adds {"limit": "max_bytes" or "max_records", "value": n}',
    )
    annotate.add_argument(
        "--max-bytes",
        type=_positive,
        help="stop (exit 3) once the input, decompressed, passes this many bytes",
    )
    annotate.add_argument(
        "--max-records",
        type=_positive,
        help="stop (exit 3) once the input has more than this many valid records",
    )
    bundle = commands.add_parser("bundle", help="build annotation bundles")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", required=True)
    add_build_arguments(
        bundle_commands.add_parser(
            "build", help="the GRCh38 default bundle, or a full one from --gff3 and --fasta"
        )
    )
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {text!r}")
    return value


def _options(args: argparse.Namespace) -> Options:
    use_bundle = args.bundle != "none"
    return Options(
        assembly=args.assembly,
        gff3=args.gff,
        fasta=args.fasta,
        bundle_dir=Path(args.bundle) if use_bundle and args.bundle else None,
        use_bundle=use_bundle,
        workers=args.workers,
        max_bytes=args.max_bytes,
        max_records=args.max_records,
        local=args.local,
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
        return USAGE_EXIT
    show = args.progress == "bar" or (args.progress == "auto" and sys.stderr.isatty())
    progress, bar = _progress_bar(show, args.input.stat().st_size)
    if args.progress == "json":
        progress = _json_progress
    try:
        result = annotate_file(args.input, args.outdir, _options(args), progress)
    except LimitExceeded as exc:
        return _limit_passed(args, exc)
    except MemoryError:
        limit = _memory_limit()
        if limit is None:  # a real shortage, not a limit: the traceback is wanted
            raise
        return _limit_passed(args, limit)
    except AnnotationError as exc:
        print(f"anntools: {args.input.name}: {exc}", file=sys.stderr)
        return BAD_INPUT_EXIT
    finally:
        if bar is not None:
            bar.close()  # type: ignore[attr-defined]
    data = result.summary
    if result.ref_mismatches:
        print(
            f"anntools: warning: {result.ref_mismatches} records have a REF that does not "
            "match the reference FASTA; they are kept without transcript consequences "
            f"(see {result.files['log'].name})",
            file=sys.stderr,
        )
    print(
        f"{data['records']} variants annotated, {data['skipped_lines']['total']} lines skipped; "
        f"results in {args.outdir}"
    )
    for path in result.files.values():
        print(f"  {path}")
    return 0


def _limit_passed(args: argparse.Namespace, exc: LimitExceeded) -> int:
    if args.progress == "json":
        print(json.dumps({"limit": exc.limit, "value": exc.value}), file=sys.stderr)
    print(f"anntools: {args.input.name}: {exc}", file=sys.stderr)
    return LIMIT_EXIT


def _memory_limit() -> LimitExceeded | None:
    """Running out of memory under an address-space limit (RLIMIT_AS) is passing a limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    return LimitExceeded(
        "memory", soft, f"the annotation needs more than {soft:,} bytes of memory (the limit)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "annotate":
        return annotate_command(args)
    if args.command == "bundle":
        return run_build(args)
    return USAGE_EXIT
