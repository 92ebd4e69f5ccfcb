"""trivy's accepted findings: each has its reason, and trivy finds nothing else (offline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.offline import trivy

pytestmark = pytest.mark.slow


def _entries() -> list[tuple[str, list[str]]]:
    """(id, comment lines just above it) for each entry of terraform/.trivyignore."""
    entries = []
    comment: list[str] = []
    for line in trivy.IGNORE_FILE.read_text().splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
        elif line.strip():
            entries.append((line.strip(), comment))
            comment = []
        else:
            comment = []  # a blank line ends a comment that no entry follows
    return entries


def test_every_accepted_finding_says_why() -> None:
    entries = _entries()
    assert entries
    for finding, why in entries:
        assert re.fullmatch(r"AVD-[A-Z]+-[0-9]{4}", finding), finding
        assert len(" ".join(why)) > 40, f"{finding} needs a comment saying why it is accepted"


def test_trivy_finds_no_high_or_critical_finding_left() -> None:
    assert trivy.scan() == 0


def test_trivy_fails_on_a_finding_not_ignored(tmp_path: Path) -> None:
    empty = tmp_path / "empty.trivyignore"
    empty.write_text("")
    assert trivy.scan(trivy.TERRAFORM, empty) == 1
