"""Part 7: the measured inputs of the cost per million counted events (deploy/unit_cost.py turns them into dollars).

- **billed duration**: warm increments of an established name through the packaged handler, under Lambda's CPU
  share of each memory size (bench/cpu_share.py), into dynalite; the REPORT line's billed duration, rounded up
  to the millisecond as Lambda bills it; their mean, since a bill adds them up (the median and p90 beside it);
- **write units**: ``ReturnConsumedCapacity`` of the store's own increment on dynalite, the day item small and
  at its 4 KB budget;
- **log and reply bytes**: what the function writes to its log per increment, and the reply it sends.

``make cost`` (``python -m bench.cost``) measures at the full size, writes deploy/measured.json and prints the table.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import SIZES, Size, add_days, cpu_share, idempotency, today
from bench.dynamo import dynalite, table_app
from deploy import unit_cost
from tests.capacity import Meter
from tests.lambda_package import LambdaFunction, build, http_event

STAGE = "prod"
MEMORY_SIZES = {"tiny": (512,), "full": (256, 512, 1024, 1769)}
INCREMENTS = {"tiny": 20, "full": 300}
WARM_UP = 10
EVENT = "PAGEVIEW"
REPORT = re.compile(r"^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: (\d+) ms", re.M)


def billed(package: Any, endpoint: str, memory: int, count: int) -> dict[str, Any]:
    """Billed milliseconds of ``count`` warm increments at ``memory``'s CPU share, and the log's bytes per increment."""
    limit = nullcontext([]) if cpu_share.why_not() else cpu_share.limited(memory)
    event = http_event("GET", "/", stage=STAGE, query=f"e={EVENT}")
    with limit as wrapper, LambdaFunction(package, wrapper=wrapper, AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                                          COUNTER_TABLE_PREFIX="BENCH", COUNTER_EVENTS=EVENT,
                                          AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(memory)) as function:
        for _ in range(WARM_UP):
            function.invoke(event)
        before = len(function.logs.encode())
        for _ in range(count):
            reply = function.invoke(event)
            if reply["statusCode"] != 200:
                raise RuntimeError(f"an increment failed: {reply}")
        logs = function.logs.encode()[before:].decode()
    ms = [int(found) for found in REPORT.findall(logs)]
    reply_bytes = len(reply["body"]) + sum(len(name) + len(value) + 4 for name, value in reply["headers"].items())
    return {"billed_ms": round(statistics.mean(ms), 2), "median_ms": statistics.median(ms),
            "p90_ms": statistics.quantiles(ms, n=10)[-1],
            "log_bytes": round(len(logs.encode()) / count), "reply_bytes": reply_bytes + 17}  # + "HTTP/1.1 200 OK\r\n"


def write_units() -> dict[str, float]:
    """Write units of one increment of an established name, the day item small and at its budget."""
    app = table_app("UNITS")
    store = app.extensions["counter.store"]
    meter = Meter().attach(store.client)
    now = today()
    yesterday = add_days(now, -1)
    store.set(yesterday, EVENT, 1000)  # counted the day before: established, it goes to the day item
    found = {}
    # The full day item is a fresh one, tomorrow's: today's holds the small one's increments.
    for kind, day, names in (("small day item", now, 0), ("full day item", add_days(now, 1), 150)):
        # Established names of 20 characters, each taking 31 of the day item's 4,000 bytes: 150 fill it.
        for n in range(names):
            store.set(yesterday, f"NAME{n:016d}", 10)
        store._views = type(store._views)()  # a fresh process's view: the history above is read anew
        for n in range(names):
            store.incr(day, f"NAME{n:016d}")
        store.incr(day, EVENT)
        meter.clear()
        store.incr(day, EVENT)
        (units,) = meter.units()
        found[kind] = units
    return found


def measure(size: Size) -> dict:
    """Every input of deploy/unit_cost.py, measured at ``size``."""
    with tempfile.TemporaryDirectory() as tmp, dynalite() as server:
        package = build(STAGE, Path(tmp))
        table_app("BENCH").extensions["counter.store"].set(add_days(today(), -1), EVENT, 1000)
        runs = {memory: billed(package, server.endpoint, memory, INCREMENTS[size.name])
                for memory in MEMORY_SIZES[size.name]}
        units = write_units()
    once = idempotency.capacity()  # its own dynalite
    units["with an id"] = once["idempotent_increment_wcu"]
    units["with an id (stream)"] = once["stream_hit_wcu"]
    return {
        "billed_ms": {str(memory): run["billed_ms"] for memory, run in runs.items()},
        "median_ms": {str(memory): run["median_ms"] for memory, run in runs.items()},
        "p90_ms": {str(memory): run["p90_ms"] for memory, run in runs.items()},
        "write_units": units,
        "log_bytes": max(run["log_bytes"] for run in runs.values()),
        "reply_bytes": max(run["reply_bytes"] for run in runs.values()),
        "cpu": "Lambda's CPU share (a cgroup quota)" if not cpu_share.why_not() else f"full CPU: {cpu_share.why_not()}",
        "increments": INCREMENTS[size.name],
    }


def main() -> None:
    """Measure at the full size, keep the inputs in deploy/measured.json, print what they cost."""
    inputs = measure(SIZES["full"])
    inputs["measured"] = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    unit_cost.MEASURED.write_text(json.dumps(inputs, indent=2) + "\n")
    print(unit_cost.report(inputs), end="")


if __name__ == "__main__":
    main()
