"""Part 6: what an id costs. Throughput with and without one on SQLite (through gunicorn) and on DynamoDB, and
the write units of an idempotent increment next to a plain one.

dynalite has no TransactWriteItems, so the DynamoDB throughput is measured on moto served by one thread (the
store the exactness tests use), and the write units of the transaction's two writes are measured on dynalite
one by one, then doubled as DynamoDB prices transactional writes.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench import ROOT, Size, alternate, compare, median
from bench.dynamo import DAY, dynalite_app, establish, rate, serving, through_app
from bench.http_load import PATH, SERVER, SHAPES, gunicorn, load
from counter_app import create_app
from counter_app.storage.updates import Updates
from tests.capacity import Meter, item_bytes, write_units
from tests.moto_server import MotoServer

SCRIPT = ROOT / "bench" / "unique_ids.lua"
SHAPE = SHAPES["1x4"]  # wrk threads × connections
STREAM_BATCH = 100  # hits in a busy minute's batch: the event source mapping's BatchSize (deploy/aggregator.py)
TRANSACTIONAL = 2  # DynamoDB bills a transactional write twice a standard one: 2 WCU per KB per item


def sqlite(size: Size) -> dict:
    """wrk against one gunicorn on SQLite, alternating plain runs and runs that give every increment an id."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp, "bench.sqlite3")
        with gunicorn("wsgi:app", {"COUNTER_STORE": f"sqlite:///{database}"}, Path(tmp, "app.log")) as (url, _):
            runs = alternate({"plain": partial(load, url, shape=SHAPE),
                              "id": lambda seconds: load(url, seconds, SCRIPT, uuid.uuid4().hex[:16], shape=SHAPE)},
                             size)
        connection = sqlite3.connect(database)
        (counted,) = connection.execute("SELECT SUM(count) FROM TEST_counters").fetchone()
        (ids,) = connection.execute("SELECT COUNT(*) FROM TEST_counter_ids").fetchone()
    return {
        "server": f"{SERVER}; wrk, {SHAPE[0]} thread(s), {SHAPE[1]} connections",
        "load": f"GET {PATH}, and the same with &id=<24 characters> fresh on every request",
        "plain_rps": median([run["rps"] for run in runs["plain"]]),
        "id_rps": median([run["rps"] for run in runs["id"]]),
        "ratio": compare([run["rps"] for run in runs["id"]], [run["rps"] for run in runs["plain"]]),
        "p50_ms": {name: median([run["p50_ms"] for run in side]) for name, side in runs.items()},
        "ids_stored": ids,
        "counted": counted,
        "requests": {name: sum(run["requests"] for run in side) for name, side in runs.items()},
        "runs": {name: [run["rps"] for run in side] for name, side in runs.items()},
    }


def dynamodb(size: Size) -> dict:
    """In-process calls of the app on a one-thread moto: plain increments, ones with fresh ids, and the same
    without the count in the reply (a read token the request lacks), each run on tables of its own.

    One caller: moto answers one request at a time, so more would only queue, past the 2 s read timeout. Fresh
    tables: moto's TransactWriteItems copies the tables it touches, so it slows as the ids table grows.
    """
    with serving(MotoServer()):
        sides = {"plain": _on_fresh_tables(False), "id": _on_fresh_tables(True, IDEMPOTENT_WRITES="transaction"),
                 "id_no_count": _on_fresh_tables(True, IDEMPOTENT_WRITES="transaction",
                                                 READ_TOKEN="bench-" + "x" * 16),
                 "id_stream": _on_fresh_tables(True, IDEMPOTENT_WRITES="stream")}
        runs = alternate({name: partial(rate, make, 1) for name, make in sides.items()}, size)
    return {
        "server": "moto, one thread (dynalite has no TransactWriteItems); the app called in-process",
        "threads": 1,
        "plain_per_s": median(runs["plain"]),
        "id_per_s": median(runs["id"]),
        "id_no_count_per_s": median(runs["id_no_count"]),
        "ratio": compare(runs["id"], runs["plain"]),
        "ratio_no_count": compare(runs["id_no_count"], runs["plain"]),
        "id_stream_per_s": median(runs["id_stream"]),
        "ratio_stream": compare(runs["id_stream"], runs["plain"]),
        "runs": runs,
    }


def _on_fresh_tables(fresh_ids: bool, **config: str) -> Callable[[], Callable[[], None]]:
    """Each caller gets the app on new tables (PAGEVIEW established) and calls it as :func:`through_app` does."""

    def make() -> Callable[[], None]:
        app = create_app({"STORE": "dynamodb://", "TABLE_PREFIX": f"B{uuid.uuid4().hex[:12]}", **config})
        app.extensions["counter.store"].create()
        establish(app)
        return through_app(app, fresh_ids)()

    return make


def capacity() -> dict:
    """WCU of a plain increment and of an idempotent one's two writes, each measured alone on dynalite."""
    with dynalite_app() as app:
        establish(app)
        store = app.extensions["counter.store"]
        client = app.test_client()
        client.get("/?e=PAGEVIEW")
        meter = Meter().attach(store.client)
        client.get("/?e=PAGEVIEW")
        plain = meter.units("UpdateItem")
        now = int(time.time())
        key = str(uuid.uuid4())  # what counter.js sends: 36 characters
        claim = store.claim(key, now=now, expires=now + 24 * 3600)
        update = Updates(DAY, "PAGEVIEW", 1).existing(DAY)
        meter.clear()
        store.client.put_item(**claim)  # the transaction's Put, alone
        store.client.update_item(**store._update_request(
            update.key, update.expression, update.names, update.values, update.condition))
        id_units, update_units = meter.units("PutItem"), meter.units("UpdateItem")
        meter.clear()
        store.client.get_item(TableName=store.table, Key={"Day": {"N": str(DAY)}}, ConsistentRead=True,
                              ProjectionExpression="PAGEVIEW")  # the count the reply shows
        read = meter.units("GetItem")
        meter.clear()
        # The stream path: the id record alone (its day, event and item too), one conditional PutItem.
        store.incr_once(DAY, "PAGEVIEW", str(uuid.uuid4()), now=now, expires=now + 24 * 3600, read=False)
        stream_put = meter.units("PutItem")
        id_item = item_bytes(claim["Item"])
        day_item = item_bytes(store.client.get_item(TableName=store.table, Key={"Day": {"N": str(DAY)}})["Item"])
    measured = TRANSACTIONAL * (id_units[0] + update_units[0])
    # The aggregator's share, from DynamoDB's billing rules: one transaction a batch of the checkpoint (under 1 KB)
    # and the day item, billed double; a busy minute's batches hold BatchSize (100) hits.
    batch = TRANSACTIONAL * (1 + write_units(day_item))
    return {
        "plain_increment_wcu": plain[0],
        "id_record_bytes": id_item,
        "day_item_bytes": day_item,
        "put_alone_wcu": id_units[0],
        "update_alone_wcu": update_units[0],
        "idempotent_increment_wcu": measured,
        "documented_wcu": TRANSACTIONAL * (write_units(id_item) + write_units(day_item)),
        "count_read_rcu": read[0],
        "stream_put_wcu": stream_put[0],
        "aggregator_batch_wcu": batch,
        "stream_hit_wcu": round(stream_put[0] + batch / STREAM_BATCH, 3),
    }


def measure(size: Size) -> dict:
    """The three comparisons of an id's cost."""
    return {"sqlite": sqlite(size), "dynamodb": dynamodb(size), "capacity": capacity()}
