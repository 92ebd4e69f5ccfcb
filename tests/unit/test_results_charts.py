"""The summary charts: well-formed, labelled, accessible SVG with proportional bars."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gas.web.results_charts import (
    chromosome_rank,
    karyotype_order,
    summary_charts,
    svg_bar_chart,
    svg_ts_tv_chart,
    ts_tv_note,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def test_a_bar_chart_is_an_accessible_scalable_image() -> None:
    root = parse(svg_bar_chart("c1", "Variant classes", [("SNV", 1148), ("insertion", 14)]))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 480 ")
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Variant classes" and title.get("id") == "c1-title"
    assert desc is not None and desc.get("id") == "c1-desc"
    assert desc.text and "SNV: 1,148 (98.8%)" in desc.text and "Total: 1,162" in desc.text
    # THEN every label and value is written as text beside its bar
    assert {"SNV", "insertion", "1,148", "14"} <= set(texts(root))


def test_bars_are_proportional_to_the_values() -> None:
    root = parse(svg_bar_chart("c", "t", [("a", 400), ("b", 100), ("c", 0), ("d", 200)]))
    widths = [
        float(rect.get("width", "nan"))
        for rect in root.iter(f"{SVG}rect")
        if rect.get("class") == "bar"
    ]
    assert len(widths) == 4
    assert widths[0] > 0 and widths[2] == 0
    assert widths[1] / widths[0] == pytest.approx(0.25, rel=1e-3)
    assert widths[3] / widths[0] == pytest.approx(0.5, rel=1e-3)
    tracks = [
        float(r.get("width", "0")) for r in root.iter(f"{SVG}rect") if r.get("class") == "track"
    ]
    assert widths[0] == pytest.approx(tracks[0], rel=1e-3)  # the largest fills its track


def test_labels_from_the_vcf_are_escaped() -> None:
    evil = '<script>alert("x")</script>&'
    markup = str(svg_bar_chart("c", "Chrom <b>", [(evil, 3)]))
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed
    assert any(evil[:21] in t or "<script>alert" in t for t in texts(root))
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Chrom <b>"


def test_long_labels_are_shortened_on_the_chart_but_whole_in_the_tooltip() -> None:
    label = "ENSG00000285959-and-a-very-long-name"
    root = parse(svg_bar_chart("c", "Genes", [(label, 5)]))
    assert label not in texts(root)
    assert any(t.endswith("…") for t in texts(root))
    bar_titles = ["".join(t.itertext()) for t in root.iter(f"{SVG}title")]
    assert f"{label}: 5" in bar_titles


def test_an_empty_chart_still_parses_and_says_so() -> None:
    root = parse(svg_bar_chart("c", "Nothing", []))
    assert "No data" in texts(root)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text and desc.text.startswith("No data.")


def test_the_ts_tv_chart_splits_one_bar_and_states_the_ratio() -> None:
    root = parse(svg_ts_tv_chart("tstv", 698, 278, 2.5108))
    assert root.get("role") == "img"
    shown = " ".join(texts(root))
    assert "Ts/Tv ratio 2.51" in shown
    assert "Transitions 698 (71.5%)" in shown and "Transversions 278 (28.5%)" in shown
    bars = {r.get("class"): float(r.get("width", "0")) for r in root.iter(f"{SVG}rect")}
    assert bars["bar ts"] / (bars["bar ts"] + bars["bar tv"]) == pytest.approx(698 / 976, abs=0.01)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text and "Ts/Tv ratio 2.51" in desc.text


def test_karyotype_order() -> None:
    counts = {"MT": 1, "X": 2, "10": 3, "2": 4, "chr1": 5, "GL000220.1": 6, "Y": 7, "chrM": 8}
    assert [name for name, _ in karyotype_order(counts)] == [
        "chr1", "2", "10", "X", "Y", "MT", "chrM", "GL000220.1",
    ]  # fmt: skip
    assert chromosome_rank("chrX") == 23 and chromosome_rank("22") == 22
    assert chromosome_rank("23") == chromosome_rank("Un") == 100


SUMMARY = {
    "records": 1141,
    "ts_tv": {"transitions": 1073, "transversions": 75, "ratio": 14.3067},
    "regions": {"CDS": 766, "noncoding_exon": 167, "intergenic": 207, "unannotated": 1},
    "consequences": {"synonymous": 510, "missense": 253},
    "classes": {"SNV": 1148, "insertion": 14, "deletion": 10, "no_alt": 1},
    "chromosomes": {"MT": 1141, "1": 3, "X": 2},
    "top_genes": {f"G{n}": 100 - n for n in range(25)},
}


def test_the_charts_of_a_summary() -> None:
    charts = summary_charts(SUMMARY)
    assert [c["id"] for c in charts] == [
        "classes", "ts-tv", "regions", "consequences", "chromosomes", "genes",
    ]  # fmt: skip
    by_id = {c["id"]: parse(str(c["svg"])) for c in charts}
    assert texts(by_id["chromosomes"])[::2] == ["1", "X", "MT"]  # labels, then values
    assert texts(by_id["classes"])[0] == "SNV"  # largest first
    assert len([t for t in texts(by_id["genes"]) if t.startswith("G")]) == 15
    ids = [el.get("id") for root in by_id.values() for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))  # unique on the page


def test_malformed_sections_are_left_out() -> None:
    charts = summary_charts(
        {"classes": "SNV", "regions": {"CDS": "many", "intron": True}, "ts_tv": {"ratio": 2}}
    )
    assert charts == []
    assert summary_charts({}) == []


@pytest.mark.parametrize(
    ("chromosomes", "says", "never"),
    [
        ({"MT": 1141}, "all mitochondrial", "Whole human genomes"),
        ({"chrM": 12}, "all mitochondrial", "Whole human genomes"),
        ({"1": 300, "X": 20}, "Whole human genomes usually show about 2.0 to 2.1", "mitochondrial"),
        ({"chr1": 300, "chrM": 7}, "7 of these records are mitochondrial", "all mitochondrial"),
    ],
)
def test_the_ts_tv_note_fits_the_file(chromosomes: dict[str, int], says: str, never: str) -> None:
    # GIVEN a file's records per chromosome, THEN the note compares its ratio with what fits it
    note = ts_tv_note(chromosomes)
    assert says in note and never not in note
    chart = next(
        c for c in summary_charts({**SUMMARY, "chromosomes": chromosomes}) if c["id"] == "ts-tv"
    )
    assert chart["note"] == note
