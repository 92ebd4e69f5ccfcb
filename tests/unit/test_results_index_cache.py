"""The variant-table index cache off the request: prepared in the background, no
``.part`` left by a dead builder, and bounded in size (least recently used go first)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gas.web import results_index
from gas.web.results_index import IndexCache
from tests.unit.test_results_index import tsv

JOBS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 5)]


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_index, "PREPARE_WAIT_SECONDS", 0.2)


def _wait_until_ready(cache: IndexCache, job: str, lines: object) -> Path:
    deadline = time.monotonic() + 10
    while True:
        state, path = cache.prepare(job, lines)
        if path is not None:
            return path
        assert state == "preparing" and time.monotonic() < deadline


def test_a_small_table_is_ready_on_the_first_request(tmp_path: Path) -> None:
    state, path = IndexCache(tmp_path).prepare(JOBS[0], lambda: iter(tsv()))
    assert state == "ready" and path is not None and path.exists()


def test_a_slow_build_is_preparing_then_ready(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    release = threading.Event()
    opened = []

    def slow_lines() -> Iterator[str]:
        opened.append(1)
        release.wait(10)
        yield from tsv()

    assert cache.prepare(JOBS[0], slow_lines) == ("preparing", None)
    assert cache.prepare(JOBS[0], slow_lines) == ("preparing", None)  # still one build
    release.set()
    assert _wait_until_ready(cache, JOBS[0], slow_lines).exists()
    assert len(opened) == 1


def test_a_failed_build_is_unavailable_and_leaves_no_part(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    assert cache.prepare(JOBS[0], lambda: iter(["junk\n"])) == ("unavailable", None)
    assert cache.prepare(JOBS[0], lambda: iter(tsv())) == ("unavailable", None)  # for a while
    assert [p for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_a_dead_builder_s_part_is_removed(tmp_path: Path) -> None:
    # GIVEN the .part of a builder that was killed, and one of a builder still at work
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    name = IndexCache(tmp_path).path_for(JOBS[0]).name
    orphan = tmp_path / f".{name}.{int(dead.stdout)}.abc.part"
    working = tmp_path / f".{name}.{os.getpid()}.def.part"
    orphan.write_bytes(b"x" * 1000)
    working.write_bytes(b"y")
    # WHEN a cache opens the folder (a web worker starts), THEN only the orphan goes
    IndexCache(tmp_path)
    assert not orphan.exists() and working.exists()


def test_the_cache_keeps_to_its_size_dropping_the_least_recently_used(tmp_path: Path) -> None:
    probe = IndexCache(tmp_path / "probe")
    one_file = probe.ensure(JOBS[0], lambda: iter(tsv())).stat().st_size
    cache = IndexCache(tmp_path / "cache", max_bytes=int(2.5 * one_file))
    paths = []
    for age, job in enumerate(JOBS[:2]):
        paths.append(_wait_until_ready(cache, job, lambda: iter(tsv())))
        os.utime(paths[-1], (1000 + age, 1000 + age))
    cache.prepare(JOBS[0], lambda: iter(tsv()))  # JOBS[0] used again: now the most recent
    paths.append(_wait_until_ready(cache, JOBS[2], lambda: iter(tsv())))
    deadline = time.monotonic() + 5
    while paths[1].exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # pruning follows the build in its thread
    assert [p.exists() for p in paths] == [True, False, True]
