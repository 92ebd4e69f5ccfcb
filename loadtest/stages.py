"""A staircase of Locust user counts (``GAS_LOAD_STAGES``), kept apart from Locust itself
so that it can be read without importing Locust (which patches the standard library)."""

from __future__ import annotations


def parse_stages(text: str) -> list[tuple[int, float]]:
    """``"10:20,25:30"`` -> [(10, 20.0), (25, 30.0)]: user counts and how long each lasts."""
    stages = []
    for part in text.split(","):
        users, _, seconds = part.strip().partition(":")
        stages.append((int(users), float(seconds)))
    if any(users < 0 or seconds <= 0 for users, seconds in stages):
        raise ValueError(f"stages must look like 10:20,25:30, not {text!r}")
    return stages


def users_at(stages: list[tuple[int, float]], elapsed: float) -> int | None:
    """The user count ``elapsed`` seconds in; None once the last stage is over."""
    for users, seconds in stages:
        if elapsed < seconds:
            return users
        elapsed -= seconds
    return None


def total_seconds(stages: list[tuple[int, float]]) -> float:
    return sum(seconds for _, seconds in stages)
