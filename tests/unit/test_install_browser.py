"""scripts/install_browser.sh, which `make install` runs: Debian's Chromium comes with apt when it
is missing and apt is usable; otherwise a note, and the install goes on."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install_browser.sh"


def fake_command(folder: Path, name: str, body: str = "") -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def run_script(
    tmp_path: Path, *, have: tuple[str, ...], uid: int, apt: bool = True
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the script with only fake commands on PATH; returns it and the apt-get calls made."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    fake_command(bin_dir, "id", f"echo {uid}")
    for name in have:
        fake_command(bin_dir, name)
    if apt:
        fake_command(bin_dir, "apt-get", f'echo "$*" >> {calls}')
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_installs_chromium_and_its_driver_when_missing(tmp_path: Path) -> None:
    done, apt_calls = run_script(tmp_path, have=(), uid=0)
    assert done.returncode == 0, done.stderr
    assert apt_calls == ["update -qq", "install -y -qq chromium chromium-driver"]


def test_does_nothing_when_both_are_there(tmp_path: Path) -> None:
    done, apt_calls = run_script(tmp_path, have=("chromium", "chromedriver"), uid=0)
    assert done.returncode == 0 and apt_calls == [] and done.stderr == ""


def test_a_missing_driver_alone_is_installed_too(tmp_path: Path) -> None:
    _, apt_calls = run_script(tmp_path, have=("chromium",), uid=0)
    assert apt_calls[-1] == "install -y -qq chromium chromium-driver"


def test_without_root_or_sudo_it_says_what_to_run_and_goes_on(tmp_path: Path) -> None:
    done, apt_calls = run_script(tmp_path, have=(), uid=1000)
    assert done.returncode == 0 and apt_calls == []
    assert "sudo apt-get install chromium chromium-driver" in done.stderr


def test_without_apt_it_says_so_and_goes_on(tmp_path: Path) -> None:
    done, apt_calls = run_script(tmp_path, have=(), uid=0, apt=False)
    assert done.returncode == 0 and apt_calls == []
    assert "GAS_E2E_CHROMIUM" in done.stderr
