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
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import counter_app
from bench import BROWSER, ROOT, SIZES, Size, add_days, today
from bench.browsers import Browsers, browse
from bench.visibility import Watch
from counter_app import create_app
from counter_app.storage.dynamodb_visitors import RECORD
from tests.contention import Contention, ContentionStore
from tests.gunicorn import Gunicorn, workers_of

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


class Supervised(list):
    """The exit codes of a supervised process's stops; ``pids`` every process started."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: list[int] = []


@contextmanager
def aggregator(env: dict[str, str], log: Path) -> Iterator[Supervised]:
    """``flask --app wsgi aggregate --follow`` with ``env``, started again when it stops (the store refused it a
    call), as a supervisor would; yields its stops' exit codes and its process ids. Stopped at the end."""
    supervised = Supervised()
    done = threading.Event()
    process: list[subprocess.Popen] = []

    def supervise() -> None:
        with open(log, "ab") as out:
            while not done.is_set():
                command = [sys.executable, "-m", "flask", "--app", "wsgi", "aggregate", "--follow"]
                process[:] = [subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)]
                supervised.pids.append(process[0].pid)
                code = process[0].wait()
                if not done.is_set():
                    supervised.append(code)

    thread = threading.Thread(target=supervise, daemon=True)
    thread.start()
    while not process:
        time.sleep(0.01)
    try:
        yield supervised
    finally:
        done.set()
        process[0].terminate()
        thread.join(timeout=15)


def one(found: Contention, path: str, rate: float, plain_rate: float, seconds: float, tmp: Path) -> dict:
    """One row on one path, on tables of its own: the browsers' figures, what the store holds, and the write units."""
    prefix = f"C{uuid.uuid4().hex[:12]}"
    # Visitors off: these rows measure the write path of the counts; bench/visitors.py measures what visitors add.
    config = {"STORE": "dynamodb://", "TABLE_PREFIX": prefix, "READ_TOKEN": READ_TOKEN, "VISITORS": "false"}
    if "IDEMPOTENT_WRITES" in counter_app.DEFAULTS:
        config["IDEMPOTENT_WRITES"] = path
    app = create_app(config)
    store = app.extensions["counter.store"]
    store.create()
    env = {f"COUNTER_{name}": value for name, value in config.items()}
    day = today()
    applying = aggregator(env, tmp / f"{prefix}.aggregate.log") if path == "stream" else nullcontext()
    # The browsers run in a process of their own, started before the load: their CPU is theirs, not the stand-in's.
    with applying as stops, Watch(store, day, EVENT) as watch, ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn")) as browsing:
        browsing.submit(int, 0).result()  # started and its imports done before the load's schedule is made
        with Gunicorn(env, tmp / f"{prefix}.gunicorn.log", WORKERS) as server:
            warm(server.url, add_days(day, -1))
            calls, units = found.calls.copy(), found.units.copy()
            groups = {"gunicorn": [server.process.pid, *workers_of(server.process.pid)],
                      "moto": [found.upstream_pid], "aggregator": stops.pids if stops is not None else []}
            cpu, watched = cpu_seconds(groups), watch.cpu_s
            browsers: Browsers = browsing.submit(browse, server.url, EVENT, rate, seconds, PLAIN, plain_rate).result()
            cpu = {group: spent - cpu[group] for group, spent in cpu_seconds(groups).items()}
            cpu["watch"] = watch.cpu_s - watched
            cpu["stand_in"] = cpu.pop("bench") - cpu["watch"]
            cpu["browsers"] = browsers.cpu_s
        # Gunicorn is stopped: no hit is written any more. Every id recorded will be counted (a browser that gave
        # up may have left one): wait for the aggregator to count them all.
        recorded = ids_recorded(store.client, f"{prefix}_counter_ids")
        watch.until(len(recorded), SETTLE)
    stored = watch.counts()
    idempotent, plain = browsers.tally(idempotent=True), browsers.tally(idempotent=False)
    acked_at = sorted(hit.acked for hit in browsers.hits if hit.key and hit.acked is not None)
    acked_ids = {hit.key for hit in browsers.hits if hit.key and hit.acked is not None}
    spent = found.units - units
    # Plain hits are one UpdateItem ADD each (1 WCU); the rest of the write units are the idempotent hits', per
    # hit counted (a hit whose browser gave up may still have been counted, and paid for).
    idempotent_units = sum(spent.values()) - stored.get(PLAIN, 0)
    result = {
        "idempotent": idempotent | {
            "stored": stored.get(EVENT, 0),
            "ids_recorded": len(recorded),
            # Answered 200 but not recorded; a count short of the ids recorded would be lost too.
            "lost": len(acked_ids - recorded) + max(0, len(recorded) - stored.get(EVENT, 0)),
            "stored_equals_acknowledged": stored.get(EVENT, 0) == idempotent["acknowledged"],
            "stored_equals_recorded": stored.get(EVENT, 0) == len(recorded),
            "wcu_per_hit": round(idempotent_units / max(1, stored.get(EVENT, 0)), 2),
            "visibility_ms": watch.delays(acked_at),
        },
        "calls": {f"{operation} {outcome}": number for (operation, outcome), number in (found.calls - calls).items()},
        "write_units": dict(spent),
        "offered_per_s": rate + plain_rate,
        "first_tries": browsers.offered(),
        "unexpected_statuses": dict(browsers.unexpected),
        "aggregator_restarts": len(stops or []),
        # CPU of every process (gunicorn and its workers, moto, the aggregator, the stand-in and the browsers)
        # per hit sent: 2 cores give at most 2 / this many hits a second, whatever the design.
        "cpu_ms_per_hit": round(1000 * sum(cpu.values()) / len(browsers.hits), 2),
        "cpu_ms_per_hit_by": {group: round(1000 * spent / len(browsers.hits), 2) for group, spent in cpu.items()},
    }
    if plain_rate:
        result["plain"] = plain | {"stored": stored.get(PLAIN, 0),
                                   "stored_equals_acknowledged": stored.get(PLAIN, 0) == plain["acknowledged"]}
    return result


def cpu_seconds(groups: dict[str, list[int | None]]) -> dict[str, float]:
    """CPU used so far by each group of processes, and as ``bench`` by this one (the stand-in and the watch)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    found = {"bench": own.ru_utime + own.ru_stime}
    for group, pids in groups.items():
        found[group] = 0.0
        for pid in filter(None, pids):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended (an aggregator started again): its share is missed
            found[group] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return found


def warm(url: str, day: int) -> None:
    """Rounds of plain hits on another day, WORKERS * 2 at once, until one round is answered within 0.5 s: every
    worker has imported the app and made its DynamoDB client before the load begins."""
    def one(_: int) -> float:
        started = time.monotonic()
        request = urllib.request.Request(f"{url}/?e=WARMUP&c={day}", headers={"User-Agent": BROWSER})
        urllib.request.urlopen(request, timeout=30).read()
        return time.monotonic() - started

    with ThreadPoolExecutor(WORKERS * 2) as pool:
        for _ in range(20):
            if max(pool.map(one, range(WORKERS * 2))) < 0.5:
                return


def ids_recorded(client: Any, table: str) -> set[str]:
    """Every hit's id in the ids table (one Scan, page by page), without the visitor records beside them."""
    found: set[str] = set()
    start: dict[str, Any] = {}
    while True:
        page = client.scan(TableName=table, ConsistentRead=True, ProjectionExpression="Id", **start)
        found.update(item["Id"]["S"] for item in page["Items"] if not item["Id"]["S"].startswith(RECORD))
        if "LastEvaluatedKey" not in page:
            return found
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def measure(size: Size, paths: tuple[str, ...] | None = None, hold: float = HOLD) -> dict:
    """Every row on every path, the paths taken in turn within each row; ``hold`` 0 shows the machine's limit."""
    paths = paths or available_paths()
    seconds = SECONDS[size.name]
    result: dict = {
        "setup": f"gunicorn, {WORKERS} sync workers; the contention stand-in (hold {hold * 1000:.0f} ms) in front "
                 "of one-thread moto; browsers retry 503s and lost answers after 0.5, 1 and 2 s (counter.js); "
                 f"{seconds:g} s of offered load per row and path; a shared 2-core machine",
        "paths": list(paths),
        "missing_paths": [path for path in PATHS if path not in paths],
        "rows": {},
    }
    with stand_in(hold) as found, tempfile.TemporaryDirectory() as tmp:
        for row, (rate, plain_rate) in ROWS.items():
            result["rows"][row] = {path: one(found, path, rate, plain_rate, seconds, Path(tmp)) for path in paths}
    return result


def table(result: dict) -> str:
    """The measured rows as a short text table."""
    lines = ["| offered | path | first tries sent (late p99) | first tries failed | their answer p50 / p99 | lost | "
             "stored = acknowledged | WCU/hit | visible p50 / p99 | CPU/hit |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for row, paths in result["rows"].items():
        for path, found in paths.items():
            hits, plain = found["idempotent"], found.get("plain")
            failed = f"{hits['first_try_failed_pct']}%"
            failed += f" (plain {plain['first_try_failed_pct']}%)" if plain else ""
            exact = "yes" if hits["stored_equals_acknowledged"] else f"no: {hits['stored']} of {hits['acknowledged']}"
            if plain and not plain["stored_equals_acknowledged"]:
                exact += f" (plain: {plain['stored']} of {plain['acknowledged']})"
            visible = hits["visibility_ms"]
            tries = found["first_tries"]
            sent, waited = f"{tries['sent_per_s']}/s ({tries['late_ms_p99']} ms)", tries["answer_ms_p50"]
            lines.append(f"| {row} | {path} | {sent} | {failed} | {waited} / {tries['answer_ms_p99']} ms | "
                         f"{hits['lost']} | {exact} | {hits['wcu_per_hit']} | {visible['p50']} / {visible['p99']} ms | "
                         f"{found['cpu_ms_per_hit']} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse ``--size``, ``--paths`` and ``--out``, run, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--paths", default=",".join(available_paths()))
    parser.add_argument("--hold", type=float, default=HOLD, help="seconds a transaction holds its items")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result = measure(SIZES[args.size], tuple(args.paths.split(",")), args.hold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
