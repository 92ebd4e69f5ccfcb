"""A run with a custom reference (--gff/--fasta) starts without the bundle's code.

The default bundle's reader (numpy), liftover, the MANE and MT annotators and
the full bundle are imported only on the paths that use them: importing them
costs a --gff/--fasta run about 0.2 s of CPU for nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

DATA = Path(__file__).resolve().parents[1] / "data"

# Modules (and packages, by prefix) that a --gff/--fasta run must not import.
BUNDLE_ONLY = (
    "numpy",
    "liftover",
    "pyarrow",
    "anntools.bundle.reader",
    "anntools.bundle.full",
    "anntools.bundle.known",
    "anntools.bundle.mane",
    "anntools.lift",
    "anntools.mane",
    "anntools.mito",
    "anntools.full_annotation",
)

PROBE = """
import json, sys
from anntools.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:  # --help and --version exit once printed
    status = exit.code
names = json.loads(sys.stdin.read())
packages = tuple(name + "." for name in names)
loaded = sorted(name for name in sys.modules if name in names or name.startswith(packages))
print(json.dumps({"status": status, "loaded": loaded}))
"""


def run_cli(args: list[str]) -> dict[str, object]:
    """Run the CLI in a fresh interpreter; its exit status and the BUNDLE_ONLY modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(BUNDLE_ONLY),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_custom_reference_run_imports_no_bundle_liftover_or_numpy(tmp_path: Path) -> None:
    # GIVEN a VCF with a coding SNV on the toy gene model
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "1\t100\t.\tT\tC\t.\t.\t.\n"
    )
    # WHEN it is annotated with --gff and --fasta only
    out = tmp_path / "out"
    found = run_cli(
        [
            "annotate",
            str(vcf),
            "-o",
            str(out),
            "--gff",
            str(DATA / "csq_toy.gff3"),
            "--fasta",
            str(DATA / "csq_toy.fa"),
            "--progress",
            "none",
        ]
    )
    # THEN it annotated the record with the transcript engine, without the bundle's modules
    assert found == {"status": 0, "loaded": []}
    assert "ENST00000000001" in (out / "in.annot.tsv").read_text()


def test_the_command_line_itself_imports_no_bundle_liftover_or_numpy() -> None:
    # --help (and every other command) builds the whole parser, `bundle build` included
    found = run_cli(["--version"])
    assert found == {"status": 0, "loaded": []}


def test_a_grch38_run_reads_no_liftover_chain_and_a_grch37_run_does(tmp_path: Path) -> None:
    # GIVEN the same record in a GRCh38 file and in a GRCh37 one
    for name, assembly in (("b38.vcf", "GRCh38"), ("b37.vcf", "GRCh37")):
        (tmp_path / name).write_text(
            f"##fileformat=VCFv4.2\n##reference={assembly}\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            "chr7\t140753336\t.\tA\tT\t.\t.\t.\n"
        )
    # WHEN each is annotated with the default bundle
    runs = {
        name: run_cli(["annotate", str(tmp_path / name), "-o", str(tmp_path / name[:3])])
        for name in ("b38.vcf", "b37.vcf")
    }
    # THEN only the GRCh37 run loads the liftover package (its import alone costs about
    # 0.2 s of CPU), and both are placed on GRCh38
    assert runs["b38.vcf"]["status"] == runs["b37.vcf"]["status"] == 0
    loaded = {name: cast(list[str], run["loaded"]) for name, run in runs.items()}
    assert "liftover" not in loaded["b38.vcf"]
    assert "liftover" in loaded["b37.vcf"]
    assert "chr7:140753336" in (tmp_path / "b38" / "b38.annot.tsv").read_text()
    assert "chr7:" in (tmp_path / "b37" / "b37.annot.tsv").read_text()
