"""Wiring a worker process: settings, clients and repositories from the environment,
then the poll loop on one queue until SIGTERM. Every handler's ``main()`` uses it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository
from gas.core.settings import Settings
from gas.core.stack import StackLocator, locator_for
from gas.core.users import UserRepository
from gas.workers.poll import Handler, Worker, configure_logging


@dataclass(frozen=True)
class Service:
    """What a handler is built from, made once per process."""

    settings: Settings
    clients: AwsClients
    locator: StackLocator
    jobs: JobRepository
    users: UserRepository

    @classmethod
    def from_env(cls) -> Service:
        settings = Settings.from_env()
        clients = AwsClients(settings)
        names = settings.names
        return cls(
            settings=settings,
            clients=clients,
            locator=locator_for(clients),
            jobs=JobRepository(clients.dynamodb, names.annotations_table),
            users=UserRepository(clients.dynamodb, names.users_table),
        )


def describe_command() -> None:
    """Answer --help with the running module's docstring; a worker takes no arguments (its
    settings come from the environment, see gas/core/settings.py)."""
    main = sys.modules["__main__"]
    argparse.ArgumentParser(
        prog=f"python -m {main.__spec__.name}" if main.__spec__ else None,
        description=main.__doc__,
        epilog="Settings come from the environment (GAS_STACK, AWS_REGION, ...).",
    ).parse_args()


def run_worker(
    queue_url: Callable[[StackLocator], str], make_handler: Callable[[Service], Handler]
) -> None:
    """Poll the queue ``queue_url`` names with the handler ``make_handler`` builds, until
    SIGTERM or SIGINT."""
    describe_command()
    configure_logging()
    service = Service.from_env()
    worker = Worker(service.clients.sqs, queue_url(service.locator), make_handler(service))
    worker.install_signal_handlers()
    worker.run()
