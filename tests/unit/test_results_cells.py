"""Table cells: long names get line-break opportunities, and stay escaped."""

from __future__ import annotations

from gas.web.results import breakable


def test_names_break_at_their_joints_only() -> None:
    assert breakable("coding_sequence_variant") == "coding_<wbr>sequence_<wbr>variant"
    assert breakable("chr1:1180123") == "chr1:<wbr>1180123"
    assert breakable("TTLL10") == "TTLL10"


def test_text_from_the_vcf_is_escaped_around_the_breaks() -> None:
    # a value from the user's file: its markup is text, and no break lands inside an entity
    assert breakable("<b>a&b</b>") == "&lt;b&gt;a&amp;<wbr>b&lt;/<wbr>b&gt;"
