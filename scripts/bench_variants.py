"""Benchmark the variant table: index a 100,000-row TSV, then time realistic page requests.

    .venv/bin/python -m scripts.bench_variants [--rows 100000] [--queries 200] [--seed 7]

The TSV is synthetic but shaped like anntools' (same columns; chromosomes,
genes, consequences, regions, rsIDs and AFs in plausible proportions). Each
timed request goes through the route's own code path: ``results.table_page``
(normalise the parameters, open the index, count, fetch a page, read the
facets) and the table template's rendering. Prints the one-off index build
time and p50/p95/max per request in milliseconds. Bounded: at most 2,000
queries and 2,000,000 rows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from gas.web.context import template_environment
from gas.web.results import TABLE_TEMPLATE, install_template_helpers, table_page
from gas.web.results_index import PER_PAGE_CHOICES, IndexCache

COLUMNS = [
    *("CHROM", "POS", "ID", "REF", "ALT", "Variant_class", "Ts_Tv", "GRCh38", "rsID"),
    *("Consequence", "Gene", "Transcript", "Biotype", "Strand", "Region", "Protein_change"),
    *("DNA_change", "Distance", "Called", "Het", "Hom_alt", "AF"),
]
CHROMOSOMES = [str(n) for n in range(1, 23)] + ["X", "Y", "MT"]
CONSEQUENCES = {
    "intron": 40,
    "upstream": 12,
    "downstream": 12,
    "intergenic": 10,
    "synonymous": 8,
    "missense": 8,
    "non_coding": 5,
    "3_prime_utr": 3,
    "5_prime_utr": 1,
    "splice_region": 1,
}
REGIONS = {
    "intron": 45,
    "intergenic": 20,
    "CDS": 16,
    "noncoding_exon": 8,
    "3_prime_UTR": 5,
    "5_prime_UTR": 2,
    "splice_region": 2,
}
MAX_ROWS = 2_000_000
MAX_QUERIES = 2_000


def synthetic_tsv(rows: int, seed: int = 7) -> Iterator[str]:
    """An anntools-shaped TSV (header first) of ``rows`` rows, sorted by chromosome and POS."""
    rng = random.Random(seed)
    genes = [f"GENE{n}" for n in range(4000)]
    consequences, c_weights = list(CONSEQUENCES), list(CONSEQUENCES.values())
    regions, r_weights = list(REGIONS), list(REGIONS.values())
    yield "\t".join(COLUMNS) + "\n"
    per_chrom = rows // len(CHROMOSOMES) + 1
    made = 0
    for chrom in CHROMOSOMES:
        pos = 10_000
        for _ in range(per_chrom):
            if made == rows:
                return
            made += 1
            pos += rng.randint(1, 2_000)
            ref, alt = rng.sample("ACGT", 2)
            transition = {ref, alt} in ({"A", "G"}, {"C", "T"})
            rsid = f"rs{rng.randint(1, 900_000_000)}" if rng.random() < 0.85 else ""
            gene = genes[min(len(genes) - 1, int(rng.paretovariate(1.1)) * 7 % len(genes))]
            af = "" if rng.random() < 0.05 else f"{rng.random():.4g}"
            row = [
                chrom,
                str(pos),
                rsid or ".",
                ref,
                alt,
                "SNV",
                "Ts" if transition else "Tv",
                f"chr{chrom}:{pos + 1000}",
                rsid,
                rng.choices(consequences, c_weights)[0],
                gene,
                f"ENST{rng.randint(10**10, 10**11):d}",
                "protein_coding",
                rng.choice("+-"),
                rng.choices(regions, r_weights)[0],
                "",
                "",
                "",
                "3",
                "1",
                "1",
                af,
            ]
            yield "\t".join(row) + "\n"


def random_params(rng: random.Random, genes: list[str], pages_hint: int) -> dict[str, str]:
    """A request as people make them: mostly unfiltered or one filter, sometimes deep pages."""
    params: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.25:
        params["gene"] = rng.choice(genes)
    elif roll < 0.45:
        params["consequence"] = rng.choice(list(CONSEQUENCES))
    elif roll < 0.6:
        params["region"] = rng.choice(list(REGIONS))
    if rng.random() < 0.3:
        params["rsid"] = rng.choice(["yes", "no"])
    if rng.random() < 0.15:
        params["consequence"] = rng.choice(list(CONSEQUENCES))
        params["region"] = rng.choice(list(REGIONS))
    params["sort"] = rng.choice(["position", "position", "gene", "consequence", "af"])
    params["dir"] = rng.choice(["asc", "asc", "desc"])
    params["per_page"] = str(rng.choice(PER_PAGE_CHOICES))
    if rng.random() < 0.5:
        # deep pages too: page numbers past the end are clamped to the last page
        params["page"] = str(rng.choice([2, 3, 10, pages_hint // 2, pages_hint, pages_hint * 2]))
    return params


class _Job:
    job_id = "00000000-0000-4000-8000-000000000000"
    input_file_name = "synthetic.vcf"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows, queries = min(args.rows, MAX_ROWS), min(args.queries, MAX_QUERIES)
    rng = random.Random(args.seed)
    templates = template_environment()
    install_template_helpers(templates)
    template = templates.get_template(TABLE_TEMPLATE)
    with tempfile.TemporaryDirectory(prefix="gas-bench-") as folder:
        cache = IndexCache(Path(folder))
        started = time.perf_counter()
        path = cache.ensure(_Job.job_id, lambda: synthetic_tsv(rows, args.seed))
        build = time.perf_counter() - started
        size = path.stat().st_size
        first = table_page(path, {})
        genes = [gene for gene, _ in first.facets["gene"]]
        pages_hint = first.pages
        timings = []
        for _ in range(queries):
            params = random_params(rng, genes, pages_hint)
            began = time.perf_counter()
            page = table_page(path, params)
            template.render(job=_Job, table=page, base_url="/variants")
            timings.append((time.perf_counter() - began) * 1000)
    print(f"rows indexed: {rows:,} (index file {size / 1024**2:.1f} MiB)")
    print(f"index build (one-off): {build * 1000:.0f} ms")
    print(
        f"{queries} table requests: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
