"""The result formats are anntools': the service's result keys and the web's variant index
follow anntools.output, so a change there cannot leave them behind silently."""

from __future__ import annotations

from pathlib import Path

from anntools.output import RESULT_SUFFIXES, TSV_COLUMNS, result_names
from gas.core.keys import new_input_key, result_key_names
from gas.web.results_index import VariantQuery, build_index, query_variants


def test_result_keys_are_named_as_anntools_names_its_files() -> None:
    for file_name in ("sample.vcf", "sample.vcf.gz", "sample.vcf.bgz", "x.y.vcf"):
        key = new_input_key("alice", file_name)
        names = {kind: k.split("~", 1)[1] for kind, k in result_key_names(key).items()}
        assert names == result_names(file_name)
        assert set(names) == set(RESULT_SUFFIXES)


def test_the_variant_index_takes_a_tsv_with_anntools_columns(tmp_path: Path) -> None:
    row = {column: "" for column in TSV_COLUMNS} | {
        "CHROM": "chr1",
        "POS": "100",
        "REF": "A",
        "ALT": "G",
        "Gene": "GENE1",
        "Consequence": "missense",
        "AF": "0.5",
    }
    lines = ["\t".join(TSV_COLUMNS), "\t".join(row[column] for column in TSV_COLUMNS)]
    assert build_index(lines, tmp_path / "index.sqlite") == 1
    page = query_variants(tmp_path / "index.sqlite", VariantQuery.from_params({}))
    assert page.total == 1
