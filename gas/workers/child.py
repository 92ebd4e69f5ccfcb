"""The anntools child of a worker, bounded: memory, wall time, and its lifetime.

The child runs in a process group of its own under a small launcher (this
module's ``main``) that, before it becomes anntools with exec:

- asks the kernel to kill it when the worker dies (PR_SET_PDEATHSIG: kill -9
  of the worker leaves no orphan annotating for nobody; anntools' own pool
  workers do the same with their parent);
- caps its address space (RLIMIT_AS), which anntools reports as a limit
  passed (exit 3) when it runs out.

A watchdog thread ends the whole group, SIGTERM first and SIGKILL after a
grace period, when the wall-time limit passes or the worker is stopping.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anntools.runner import die_with_parent

GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one child may use: ``memory_bytes`` of address space, ``seconds`` of wall time."""

    memory_bytes: int
    seconds: float


def bounded_command(command: Sequence[str], memory_bytes: int) -> list[str]:
    """``command`` run through the launcher: dies with this process, memory capped."""
    return [
        sys.executable,
        "-m",
        __name__,
        "--parent",
        str(os.getpid()),
        "--memory",
        str(memory_bytes),
        "--",
        *command,
    ]


class Watchdog:
    """Ends a child's process group at a deadline or when ``stop`` is set; says which."""

    def __init__(self, child: subprocess.Popen[str], seconds: float, stop: threading.Event):
        self.child = child
        self.timed_out = False
        self.stopped = False
        self._deadline = time.monotonic() + seconds
        self._stop = stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="child-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.is_set():
            if self._stop.is_set():
                self.stopped = True
                break
            if time.monotonic() >= self._deadline:
                self.timed_out = True
                break
            self._done.wait(0.2)
        else:
            return
        end_group(self.child)


def end_group(child: subprocess.Popen[str]) -> None:
    """SIGTERM to the child's process group, then SIGKILL if it has not ended in time."""
    for signum, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            return
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def bounded_child(
    command: Sequence[str],
    bounds: Bounds,
    stop: threading.Event,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[tuple[subprocess.Popen[str], Watchdog]]:
    """Start ``command`` bounded; its stderr is a text pipe. The group never outlives the block."""
    child = subprocess.Popen(
        bounded_command(command, bounds.memory_bytes),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        process_group=0,
    )
    with child, Watchdog(child, bounds.seconds, stop) as watchdog:
        try:
            yield child, watchdog
        finally:
            if child.poll() is None:
                end_group(child)


def main(argv: Sequence[str] | None = None) -> None:
    """The launcher: die with the parent, cap memory, then exec the command."""
    parser = argparse.ArgumentParser(description="run a command bounded (GAS workers)")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    die_with_parent(args.parent)
    if args.memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
