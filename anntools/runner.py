"""Chunk by chunk: parse, annotate and format in this process or in worker processes.

Each chunk's work is independent (sources are read-only), so chunks can go to
a pool of forked workers; results come back in file order and the caller
writes them. At most a few chunks are in flight, so memory stays flat however
large the input is. The work on each record is the compiled record loop's.
The same workers also run the tasks whose results the caller waits for: the
calls of a big haplotype group, needed before that group's chunks are released
(see anntools.csq.stream).
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
from typing import TYPE_CHECKING, TypeVar

from anntools.report import Counts
from anntools.vcf import ChromRun, Header, LineProblem, RawChunk, record_loop

if TYPE_CHECKING:
    from anntools._recordloop import SiteSource
    from anntools.csq import TranscriptAnnotator
    from anntools.csq.haplotype import HeldStretch
    from anntools.model import Consequence

# One chunk and the swaps of coding calls haplotype-aware calling decided for some of its
# lines (see RecordLoop.annotate); None when there are none.
Job = tuple[RawChunk, "dict[int, dict[int, dict[str, list[Consequence | None]]]] | None"]
# A chunk as the haplotype buffer releases it: the swaps still to merge from the stretches of
# called groups on its lines (None: no haplotype-aware calling)
PendingJob = tuple[RawChunk, "list[HeldStretch] | None"]
Task = TypeVar("Task")
Result = TypeVar("Result")

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


def resolved(job: PendingJob) -> Job:
    """The job with its held stretches merged into the swaps the record loop reads."""
    chunk, stretches = job
    if stretches is None:
        return chunk, None
    overrides = {}
    for stretch in stretches:
        overrides.update(stretch.merged())
    return chunk, overrides


_worker_work: ChunkWork | None = None
_worker_annotator: TranscriptAnnotator | None = None


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


def _start_worker(
    make_work: Callable[[], ChunkWork], annotator: TranscriptAnnotator | None
) -> None:
    global _worker_work, _worker_annotator
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    _worker_work = make_work()
    _worker_annotator = annotator
    gc.freeze()  # the sources are long-lived: keep the collector from rescanning them


def _work_in_worker(job: PendingJob) -> ChunkResult:
    assert _worker_work is not None, "worker not initialised"
    return _worker_work(resolved(job))


def _task_in_worker(fn: Callable[[TranscriptAnnotator, Task], Result], task: Task) -> Result:
    assert _worker_annotator is not None, "worker has no annotator"
    return fn(_worker_annotator, task)


class WorkerPool:
    """Two kinds of work for ``size`` forked workers (with one, this process does it all):
    chunk jobs, whose results come back in chunk order with a few in flight
    (:meth:`results`), and tasks whose results the caller waits for (:meth:`map`: a
    haplotype group's calls, which its chunks need). ``annotator``: what tasks use."""

    def __init__(
        self,
        make_work: Callable[[], ChunkWork],
        size: int,
        annotator: TranscriptAnnotator | None = None,
    ) -> None:
        self.size = max(1, size)
        self._make_work = make_work
        self._annotator = annotator
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> WorkerPool:
        if self.size > 1:
            # fork: workers inherit the loaded sources instead of unpickling them
            self._executor = ProcessPoolExecutor(
                self.size,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
                initargs=(self._make_work, self._annotator),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown()

    def results(self, jobs: Iterable[PendingJob]) -> Iterator[ChunkResult]:
        """Each job's result, in job order."""
        if self._executor is None:
            work = self._make_work()
            for job in jobs:
                yield work(resolved(job))
            return
        in_flight: deque[Future[ChunkResult]] = deque()
        for job in jobs:
            in_flight.append(self._executor.submit(_work_in_worker, job))
            if len(in_flight) >= self.size * IN_FLIGHT_PER_WORKER:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def map(
        self, fn: Callable[[TranscriptAnnotator, Task], Result], tasks: list[Task]
    ) -> list[Result]:
        """``fn(annotator, task)`` of each task, in order, run by the workers side by side
        (behind the chunk jobs already in flight)."""
        if self._executor is None:
            assert self._annotator is not None, "no annotator for tasks"
            return [fn(self._annotator, task) for task in tasks]
        futures = [self._executor.submit(_task_in_worker, fn, task) for task in tasks]
        return [future.result() for future in futures]


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
