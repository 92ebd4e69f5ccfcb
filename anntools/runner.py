"""Chunk by chunk: parse, annotate and format in this process or in worker processes.

Each chunk's work is independent (sources are read-only), so chunks can go to
a pool of forked workers; results come back in file order and the caller
writes them. At most a few chunks are in flight, so memory stays flat however
large the input is.
"""

from __future__ import annotations

import gc
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anntools.annotation import RecordAnnotation
from anntools.output import tsv_lines, vcf_line
from anntools.report import Counts
from anntools.vcf import ChromRun, ChunkParser, Header, LineProblem, RawChunk, Record

IN_FLIGHT_PER_WORKER = 2


@dataclass(slots=True)
class ChunkResult:
    """One chunk annotated: output text, counts, problems, and its chromosome runs."""

    vcf_text: str
    tsv_text: str
    counts: Counts
    problems: list[LineProblem]
    runs: list[ChromRun]
    bytes_read: int


class ChunkWork:
    """Parses, annotates and formats chunks; one per process."""

    def __init__(
        self, header: Header, annotate: Callable[[Record], RecordAnnotation], workdir: Path
    ) -> None:
        self._parser = ChunkParser(header, workdir)
        self._annotate = annotate

    def __call__(self, chunk: RawChunk) -> ChunkResult:
        parsed = self._parser.parse(chunk)
        counts = Counts()
        vcf_parts, tsv_parts = [], []
        annotate = self._annotate
        for record in parsed.records:
            annotation = annotate(record)
            counts.add(record.chrom, annotation)
            vcf_parts.append(vcf_line(record, annotation))
            tsv_parts.append(tsv_lines(record, annotation))
        return ChunkResult(
            "".join(vcf_parts),
            "".join(tsv_parts),
            counts,
            parsed.problems,
            parsed.runs,
            chunk.bytes_read,
        )


_worker_work: ChunkWork | None = None


def _start_worker(make_work: Callable[[Path], ChunkWork], workdir: Path) -> None:
    global _worker_work
    _worker_work = make_work(workdir)
    gc.freeze()  # the sources are long-lived: keep the collector from rescanning them


def _work_in_worker(chunk: RawChunk) -> ChunkResult:
    assert _worker_work is not None, "worker not initialised"
    return _worker_work(chunk)


def run_chunks(
    chunks: Iterable[RawChunk], make_work: Callable[[Path], ChunkWork], workers: int
) -> Iterator[ChunkResult]:
    """Results in chunk order; ``workers`` <= 1 works in this process."""
    with tempfile.TemporaryDirectory(prefix="anntools-") as tmp:
        if workers <= 1:
            yield from map(make_work(Path(tmp)), chunks)
        else:
            yield from _run_in_pool(chunks, make_work, workers, Path(tmp))


def _run_in_pool(
    chunks: Iterable[RawChunk], make_work: Callable[[Path], ChunkWork], workers: int, tmp: Path
) -> Iterator[ChunkResult]:
    # fork: workers inherit the loaded sources instead of unpickling them
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(make_work, tmp)
    ) as pool:
        in_flight: deque[Future[ChunkResult]] = deque()
        for chunk in chunks:
            in_flight.append(pool.submit(_work_in_worker, chunk))
            if len(in_flight) >= workers * IN_FLIGHT_PER_WORKER:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect cycles rarely while streaming.

    Records are acyclic and freed by reference counting; with the default
    thresholds the cyclic collector rescans every live chunk thousands of
    times and more than doubles the run time.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
