"""The ``gas`` command: run and operate GAS.

gas local up|down|status     the local cloud (moto as AWS, localstripe as Stripe)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from scripts import localcloud


def local_up(_: argparse.Namespace) -> int:
    for service in localcloud.services():
        print(localcloud.start(service))
    os.environ.update(localcloud.local_environment())
    from handlers.aws import AwsClients
    from handlers.billing import ensure_premium_plan, stripe_client
    from handlers.bootstrap import bootstrap
    from handlers.settings import Settings

    settings = Settings.from_env()
    stack = bootstrap(AwsClients(settings))
    plan = ensure_premium_plan(stripe_client(settings))
    print(
        f"stack {settings.stack}: {len(stack.queue_urls)} queues, "
        f"{len(stack.topic_arns)} topics, buckets, tables, vault and mail sender ready; "
        f"Stripe plan {plan}"
    )
    print("To use it from a shell:")
    for key, value in localcloud.local_environment().items():
        print(f"  export {key}={value}")
    return 0


def local_down(_: argparse.Namespace) -> int:
    for service in reversed(localcloud.services()):
        print(localcloud.stop(service))
    return 0


def local_status(_: argparse.Namespace) -> int:
    all_up = True
    for service in localcloud.services():
        up = localcloud.port_open(service.port)
        pid = localcloud.running_pid(service)
        owner = f"pid {pid}" if pid else "not started by gas"
        print(f"{service.name:<7}{'up' if up else 'down':<6}{service.url}  ({owner})")
        all_up = all_up and up
    return 0 if all_up else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gas", description="Run and operate GAS.")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="the local cloud on this machine")
    actions = local.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="start moto and localstripe on loopback, create every resource")
    actions.add_parser("down", help="stop what `up` started")
    actions.add_parser("status", help="which local services answer")
    return parser


_HANDLERS = {
    ("local", "up"): local_up,
    ("local", "down"): local_down,
    ("local", "status"): local_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _HANDLERS[(args.command, args.action)](args)


if __name__ == "__main__":
    sys.exit(main())
