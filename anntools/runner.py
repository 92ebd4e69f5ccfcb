"""Chunk by chunk: parse, annotate and format in this process or in worker processes.

Each chunk's work is independent (sources are read-only), so chunks can go to
a pool of forked workers; results come back in file order and the caller
writes them. At most a few chunks are in flight, so memory stays flat however
large the input is. The work on each record is the compiled record loop's.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anntools.report import Counts
from anntools.vcf import ChromRun, Header, LineProblem, RawChunk, record_loop

if TYPE_CHECKING:
    from anntools._recordloop import SiteSource
    from anntools.csq import TranscriptAnnotator
    from anntools.model import Consequence

# One chunk and the swaps of coding calls haplotype-aware calling decided for some of its
# lines (see RecordLoop.annotate); None when there are none.
Job = tuple[RawChunk, "dict[int, dict[int, dict[str, list[Consequence | None]]]] | None"]

IN_FLIGHT_PER_WORKER = 2
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(slots=True)
class ChunkResult:
    """One chunk annotated: output text (UTF-8), counts, problems, and its chromosome runs."""

    vcf_text: bytes
    tsv_text: bytes
    counts: Counts
    problems: list[LineProblem]
    runs: list[ChromRun]
    bytes_read: int


class ChunkWork:
    """Annotates and formats chunks with the record loop; one per process."""

    def __init__(
        self,
        header: Header,
        sites: SiteSource | None,
        transcripts: TranscriptAnnotator | None,
    ) -> None:
        self._loop = record_loop(header, sites, transcripts)

    def __call__(self, job: Job) -> ChunkResult:
        chunk, overrides = job
        vcf_text, tsv_text, counts, problems, runs = self._loop.annotate(
            chunk.lines, chunk.first_line_no, overrides
        )
        return ChunkResult(
            vcf_text,
            tsv_text,
            Counts.from_chunk(counts),
            [LineProblem(*problem) for problem in problems],
            [ChromRun(*run) for run in runs],
            chunk.bytes_read,
        )


_worker_work: ChunkWork | None = None


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when its parent ends (Linux; elsewhere nothing).

    Without it a pool worker, or anntools under a service worker, outlives a
    parent killed with SIGKILL and goes on using a core and memory for nothing.
    A parent that ended before the request was made is caught by its pid.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os._exit(1)


def _start_worker(make_work: Callable[[], ChunkWork]) -> None:
    global _worker_work
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    _worker_work = make_work()
    gc.freeze()  # the sources are long-lived: keep the collector from rescanning them


def _work_in_worker(job: Job) -> ChunkResult:
    assert _worker_work is not None, "worker not initialised"
    return _worker_work(job)


def run_chunks(
    jobs: Iterable[Job], make_work: Callable[[], ChunkWork], workers: int
) -> Iterator[ChunkResult]:
    """Results in chunk order; ``workers`` <= 1 works in this process."""
    if workers <= 1:
        yield from map(make_work(), jobs)
    else:
        yield from _run_in_pool(jobs, make_work, workers)


def _run_in_pool(
    jobs: Iterable[Job], make_work: Callable[[], ChunkWork], workers: int
) -> Iterator[ChunkResult]:
    # fork: workers inherit the loaded sources instead of unpickling them
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(make_work,)
    ) as pool:
        in_flight: deque[Future[ChunkResult]] = deque()
        for job in jobs:
            in_flight.append(pool.submit(_work_in_worker, job))
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
