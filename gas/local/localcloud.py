"""The local cloud: moto's server as AWS and localstripe as Stripe, on loopback only.

Each runs as a background process with a pid file and a log under
``.gas/`` in the project, so ``gas local down`` can stop what ``up`` started.
``GAS_LOCAL_AWS_PORT``, ``GAS_LOCAL_STRIPE_PORT`` and ``GAS_LOCAL_STATE_DIR``
move them (the tests use free ports). ``up`` also records the stack it bootstrapped there,
so ``gas local status`` can tell another shell which ``GAS_STACK`` to use.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gas.core.settings import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AWS_PORT = 4566  # LocalStack's port, so tools made for LocalStack find the emulator
STRIPE_PORT = 8420


def state_dir() -> Path:
    return Path(os.environ.get("GAS_LOCAL_STATE_DIR", PROJECT_ROOT / ".gas"))


def aws_port() -> int:
    return _port("GAS_LOCAL_AWS_PORT", AWS_PORT)


def stripe_port() -> int:
    return _port("GAS_LOCAL_STRIPE_PORT", STRIPE_PORT)


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{variable} must be a port number (1 to 65535), not {raw!r}")
    return int(raw)


def record_stack(stack: str) -> None:
    """Remember the stack ``up`` bootstrapped, for ``gas local status``."""
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "stack").write_text(stack + "\n")


def recorded_stack() -> str | None:
    try:
        return (state_dir() / "stack").read_text().strip() or None
    except OSError:
        return None


LOCALSTRIPE = Path(__file__).with_name("localstripe_loopback.py")


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    command: list[str]

    @property
    def pid_file(self) -> Path:
        return state_dir() / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return state_dir() / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def services() -> list[Service]:
    moto_server = str(Path(sys.executable).with_name("moto_server"))
    aws, stripe = aws_port(), stripe_port()
    return [
        Service("aws", aws, [moto_server, "-H", "127.0.0.1", "-p", str(aws)]),
        Service("stripe", stripe, [sys.executable, str(LOCALSTRIPE), str(stripe)]),
    ]


def free_port() -> int:
    """A loopback port nothing listens on now (for servers started by tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def running_pid(service: Service) -> int | None:
    try:
        pid = int(service.pid_file.read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    """True while the process runs; reaps it first if it is our own exited child."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # started by another `gas` process: signal 0 tells
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start(service: Service, timeout: float = 30) -> str:
    """Start the service unless it already answers; returns what was done."""
    if port_open(service.port):
        return f"{service.name}: already listening on {service.url}"
    state_dir().mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log:
        process = subprocess.Popen(
            service.command,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal is handled by `gas`, not passed on
        )
    service.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while not port_open(service.port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not start; see {service.log_file}")
        time.sleep(0.1)
    return f"{service.name}: started on {service.url} (pid {process.pid})"


def stop(service: Service) -> str:
    pid = running_pid(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return f"{service.name}: not running"
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if running_pid(service) is None:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return f"{service.name}: stopped (pid {pid})"


def local_environment() -> dict[str, str]:
    """What a process needs to talk to the local cloud (throwaway credentials)."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port()}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port()}",
        "STRIPE_API_KEY": "sk_test_local",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
        "STRIPE_WEBHOOK_SECRET": "whsec_local",  # localstripe signs its webhooks with it
    }


def register_stripe_webhook(web_url: str) -> None:
    """Have localstripe post subscription events to the web app, as Stripe would."""
    import requests

    environment = local_environment()
    response = requests.post(
        f"{environment['STRIPE_API_BASE']}/_config/webhooks/gas",
        json={
            "url": f"{web_url}/stripe/webhook",
            "secret": environment["STRIPE_WEBHOOK_SECRET"],
            "events": [
                "customer.subscription.created",
                "customer.subscription.updated",
                "customer.subscription.deleted",
            ],
        },
        timeout=10,
    )
    response.raise_for_status()
