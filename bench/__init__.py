"""Benchmarks: the counter against its floor and its alternatives, side by side in one run."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

from counter_app.days import from_int, to_int

ROOT = Path(__file__).resolve().parent.parent
# The counter counts no hit without a User-Agent (and none from load tools): load it as a browser would.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
Run = TypeVar("Run")


@dataclass(frozen=True)
class Size:
    """How long and how often each comparison runs."""

    name: str
    runs: int  # interleaved pairs per comparison; medians are taken over these
    seconds: float  # length of one timed run
    warmup: float  # untimed load before the first run
    threads: int  # concurrent callers in the DynamoDB comparison


SIZES = {
    "tiny": Size("tiny", runs=1, seconds=1.0, warmup=0.0, threads=2),
    "full": Size("full", runs=5, seconds=5.0, warmup=2.0, threads=4),
}


def median(values: list[float]) -> float:
    """The median, rounded for reading."""
    return round(statistics.median(values), 3)


def compare(ours: list[float], floor: list[float]) -> float:
    """The median of the per-pair ratios ``ours / floor``: pairs ran back to back."""
    return median([a / b for a, b in zip(ours, floor, strict=True)])


def alternate(sides: dict[str, Callable[[float], Run]], size: Size) -> dict[str, list[Run]]:
    """Each side's timed runs, taken in turn: every side warmed up for ``size.warmup`` seconds (if any), then
    ``size.runs`` rounds of one ``size.seconds`` run of each side.

    :param sides: each side's run, given the seconds it lasts.
    """
    if size.warmup:
        for side in sides.values():
            side(size.warmup)
    runs: dict[str, list[Run]] = {name: [] for name in sides}
    for _ in range(size.runs):
        for name, side in sides.items():
            runs[name].append(side(size.seconds))
    return runs


def today() -> int:
    """Today in UTC as the store keys it (yyyyMMdd): the bench's apps run on the real clock in UTC."""
    return to_int(datetime.now(timezone.utc).date())


def add_days(day: int, days: int) -> int:
    """The yyyyMMdd ``days`` calendar days after ``day`` (before it, if negative)."""
    return to_int(from_int(day) + timedelta(days=days))
