"""Benchmarks: the counter against its floor and its alternatives, side by side in one run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The counter counts no hit without a User-Agent (and none from load tools): load it as a browser would.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


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
