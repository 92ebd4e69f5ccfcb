"""anntools' processes end with the process that started them, and a memory limit is named."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from anntools import cli

# A parent that forks a child asking to die with it, prints the child's pid, then sleeps.
PARENT = textwrap.dedent(
    """
    import os, sys, time
    from anntools.runner import die_with_parent

    parent = os.getpid()
    child = os.fork()
    if child == 0:
        die_with_parent(parent)
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    time.sleep(60)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_when_its_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_running_out_of_memory_under_a_limit_is_a_named_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def out_of_memory(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    path = tmp_path / "x.vcf"
    path.write_text("##fileformat=VCFv4.2\n")
    monkeypatch.setattr(cli, "annotate_file", out_of_memory)
    monkeypatch.setattr(cli.resource, "getrlimit", lambda _which: (2**31, 2**31))
    code = cli.main(["annotate", str(path), "-o", str(tmp_path), "--progress", "json"])
    assert code == cli.LIMIT_EXIT
    err = capsys.readouterr().err.splitlines()
    assert err[-2] == '{"limit": "memory", "value": 2147483648}'
    assert err[-1] == (
        "anntools: x.vcf: the annotation needs more than 2,147,483,648 bytes of memory (the limit)"
    )
