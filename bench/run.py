"""Run the benchmarks side by side and write their numbers: ``python -m bench.run --size full``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import ROOT, SIZES, Size, cold_start, cost, dynamo, http_load, http_profile, idempotency, import_sqlite
from bench import contention, lockout, visitors

# A section runs one comparison and returns its numbers as JSON-ready data.
Section = Callable[[Size], dict]
SECTIONS: dict[str, Section] = {
    "http_sqlite": http_load.measure,
    "http_profile": http_profile.measure,
    "dynamodb": dynamo.measure,
    "cold_start": cold_start.measure,
    "lockout": lockout.measure,
    "import_sqlite": import_sqlite.measure,
    "idempotency": idempotency.measure,
    "cost": cost.measure,
    "contention": contention.measure,
    "visitors": visitors.measure,
}
DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"


def machine() -> dict:
    """What the numbers were measured on."""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def run(size: Size, sections: dict[str, Section] = SECTIONS) -> dict:
    """Every section at ``size``, one after the other, with the machine and the time each took."""
    result: dict = {"size": size.name, "runs": size.runs, "seconds_per_run": size.seconds, "machine": machine()}
    for name, section in sections.items():
        started = time.monotonic()
        result[name] = section(size)
        result[name]["took_s"] = round(time.monotonic() - started, 1)
    return result


def headlines(result: dict) -> str:
    """One line a section: how long it took and its ratios, the figures docs/benchmarks.md quotes."""
    sections = [name for name, value in result.items() if isinstance(value, dict) and "took_s" in value]
    width = max(map(len, sections), default=7)
    lines = [f"{'section':<{width}}  {'took s':>6}  ratios (the first / the second; the JSON has every number)"]
    for name in sections:
        ratios = ", ".join(f"{path} {value:g}" for path, value in _ratios(result[name])) or "-"
        lines.append(f"{name:<{width}}  {result[name]['took_s']:>6g}  {ratios}")
    return "\n".join(lines) + "\n"


def _ratios(data: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _ratios(value, f"{prefix}{key}.")
        elif "ratio" in key and isinstance(value, int | float):
            yield f"{prefix}{key}", value


def main(argv: list[str] | None = None) -> None:
    """Parse ``--size`` and ``--out``, run, write the result and print its headlines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = args.out.with_suffix(".log")
    with log.open("w") as lines, contextlib.redirect_stdout(lines):  # the in-process apps' JSON log lines
        result = run(SIZES[args.size])
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(headlines(result), end="")
    print(f"Every number: {args.out}; the apps' log lines: {log}")


if __name__ == "__main__":
    main()
