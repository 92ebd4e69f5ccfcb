import pytest

from anntools.variant import classify, substitution_kind, trim


@pytest.mark.parametrize(
    ("ref", "alt", "expected"),
    [
        ("A", "G", "SNV"),
        ("AC", "GT", "MNV"),
        ("ACG", "ATG", "SNV"),  # padded SNV trims to one base
        ("A", "AT", "insertion"),
        ("AT", "A", "deletion"),
        ("ATG", "C", "complex"),
        ("A", "<DEL>", "symbolic"),
        ("A", "*", "symbolic"),
        ("A", "G]17:198982]", "symbolic"),
        ("A", ".", "no_alt"),
    ],
)
def test_classify(ref: str, alt: str, expected: str) -> None:
    assert classify(ref, alt) == expected


def test_transitions_and_transversions() -> None:
    assert substitution_kind("A", "G") == "Ts"
    assert substitution_kind("c", "t") == "Ts"
    assert substitution_kind("A", "C") == "Tv"
    assert substitution_kind("AT", "GT") is None
    assert substitution_kind("A", "N") is None


def test_trim_moves_position_past_shared_prefix() -> None:
    assert trim(100, "CAGT", "CAT") == (101, "AG", "A")
    assert trim(100, "A", "AT") == (100, "A", "AT")
