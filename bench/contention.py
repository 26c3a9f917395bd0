"""Issue 17: idempotent hits at an offered rate on one event and one day, through gunicorn (4 workers), on the
contention stand-in (tests/contention.py: a transaction holds its items 20 ms), with browsers retrying as counter.js
does; each idempotent write path (``COUNTER_IDEMPOTENT_WRITES``) beside the other, row by row, in one run.

``python -m bench.contention [--size tiny|full] [--paths transaction,stream]`` prints a table and writes
bench/results/contention.json. The stream path's counts are applied by ``flask --app wsgi aggregate --follow``,
run beside gunicorn; a count's visibility delay is the time from a hit's 200 until the store shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from unittest import mock

import counter_app
from bench import ROOT, SIZES, Size, today
from bench.browsers import Browsers
from bench.visibility import Watch
from counter_app import create_app
from tests.contention import Contention, ContentionStore
from tests.gunicorn import Gunicorn

EVENT, PLAIN = "HIT", "BACKEND"  # the idempotent hits' event and the plain hits' (a backend's), on one day item
ROWS = {"40/s": (40, 0), "150/s": (150, 0), "150/s + 50/s plain": (150, 50)}  # idempotent, plain hits a second
PATHS = ("transaction", "stream")
SECONDS = {"tiny": 1.0, "full": 10.0}  # of offered load per row and path
HOLD = 0.02  # seconds a transaction holds its items in the stand-in
WORKERS = 4
# Browsers send no read token: their replies carry no count, so a hit costs its write alone on either path.
READ_TOKEN = "bench-contention-" + "x" * 16
SETTLE = 15.0  # seconds the store may take, after the last answer, to show every count
OUT = ROOT / "bench" / "results" / "contention.json"


def available_paths() -> tuple[str, ...]:
    """The write paths this counter has: today's transaction alone before ``COUNTER_IDEMPOTENT_WRITES`` exists."""
    return PATHS if "IDEMPOTENT_WRITES" in counter_app.DEFAULTS else ("transaction",)


@contextmanager
def stand_in(hold: float = HOLD) -> Iterator[Contention]:
    """The contention stand-in, with the environment pointing boto3 (DynamoDB and its streams) at it."""
    with ContentionStore(hold) as found:
        fake = {"AWS_ENDPOINT_URL_DYNAMODB": found.endpoint, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": found.endpoint,
                "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        with mock.patch.dict(os.environ, fake):
            os.environ.pop("AWS_PROFILE", None)
            yield found


@contextmanager
def aggregator(env: dict[str, str], log: Path) -> Iterator[None]:
    """``flask --app wsgi aggregate --follow`` with ``env``, stopped at the end."""
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "aggregate", "--follow"],
                                   cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def one(found: Contention, path: str, rate: float, plain_rate: float, seconds: float, tmp: Path) -> dict:
    """One row on one path, on tables of its own: the browsers' figures, what the store holds, and the write units."""
    prefix = f"C{uuid.uuid4().hex[:12]}"
    config = {"STORE": "dynamodb://", "TABLE_PREFIX": prefix, "READ_TOKEN": READ_TOKEN}
    if "IDEMPOTENT_WRITES" in counter_app.DEFAULTS:
        config["IDEMPOTENT_WRITES"] = path
    app = create_app(config)
    store = app.extensions["counter.store"]
    store.create()
    env = {f"COUNTER_{name}": value for name, value in config.items()}
    calls, units = found.calls.copy(), found.units.copy()
    day = today()
    applying = aggregator(env, tmp / f"{prefix}.aggregate.log") if path == "stream" else nullcontext()
    with Gunicorn(env, tmp / f"{prefix}.gunicorn.log", WORKERS) as server, applying, Watch(store, day, EVENT) as watch:
        browsers = Browsers(server.url, EVENT, rate, seconds, PLAIN, plain_rate).run()
        idempotent, plain = browsers.tally(idempotent=True), browsers.tally(idempotent=False)
        watch.until(idempotent["acknowledged"], SETTLE)
    stored = watch.counts()
    acked_at = sorted(hit.acked for hit in browsers.hits if hit.key and hit.acked is not None)
    spent = found.units - units
    # Plain hits are one UpdateItem ADD each (1 WCU); the rest of the write units are the idempotent hits'.
    idempotent_units = sum(spent.values()) - plain["acknowledged"]
    result = {
        "idempotent": idempotent | {
            "stored": stored.get(EVENT, 0),
            "lost": max(0, idempotent["acknowledged"] - stored.get(EVENT, 0)),
            "stored_equals_acknowledged": stored.get(EVENT, 0) == idempotent["acknowledged"],
            "wcu_per_hit": round(idempotent_units / max(1, idempotent["acknowledged"]), 2),
            "visibility_ms": watch.delays(acked_at),
        },
        "calls": {f"{operation} {outcome}": number for (operation, outcome), number in (found.calls - calls).items()},
        "write_units": dict(spent),
        "offered_per_s": rate + plain_rate,
        "first_tries": browsers.offered(),
        "unexpected_statuses": dict(browsers.unexpected),
    }
    if plain_rate:
        result["plain"] = plain | {"stored": stored.get(PLAIN, 0),
                                   "stored_equals_acknowledged": stored.get(PLAIN, 0) == plain["acknowledged"]}
    return result


def measure(size: Size, paths: tuple[str, ...] | None = None) -> dict:
    """Every row on every path, the paths taken in turn within each row."""
    paths = paths or available_paths()
    seconds = SECONDS[size.name]
    result: dict = {
        "setup": f"gunicorn, {WORKERS} sync workers; the contention stand-in (hold {HOLD * 1000:.0f} ms) in front "
                 "of one-thread moto; browsers retry 503s and lost answers after 0.5, 1 and 2 s (counter.js); "
                 f"{seconds:g} s of offered load per row and path; a shared 2-core machine",
        "paths": list(paths),
        "missing_paths": [path for path in PATHS if path not in paths],
        "rows": {},
    }
    with stand_in() as found, tempfile.TemporaryDirectory() as tmp:
        for row, (rate, plain_rate) in ROWS.items():
            result["rows"][row] = {path: one(found, path, rate, plain_rate, seconds, Path(tmp)) for path in paths}
    return result


def table(result: dict) -> str:
    """The measured rows as a short text table."""
    lines = ["| offered | path | first tries failed | lost | stored = acknowledged | WCU/hit | visible p50 / p99 |",
             "|---|---|---:|---:|---|---:|---:|"]
    for row, paths in result["rows"].items():
        for path, found in paths.items():
            hits, plain = found["idempotent"], found.get("plain")
            failed = f"{hits['first_try_failed_pct']}%" + (f" (plain {plain['first_try_failed_pct']}%)" if plain else "")
            exact = hits["stored_equals_acknowledged"] and (not plain or plain["stored_equals_acknowledged"])
            visible = hits["visibility_ms"]
            lines.append(f"| {row} | {path} | {failed} | {hits['lost']} | {'yes' if exact else 'no'} | {hits['wcu_per_hit']} | "
                         f"{visible['p50']} / {visible['p99']} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse ``--size``, ``--paths`` and ``--out``, run, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--paths", default=",".join(available_paths()))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result = measure(SIZES[args.size], tuple(args.paths.split(",")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
