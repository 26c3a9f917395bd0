"""Visitors: the write units of a hit with visitors on and off, and the throughput with them on.

Write units are measured on dynalite with ReturnConsumedCapacity, call by call; the aggregator's share follows
DynamoDB's billing rules (a transaction's writes count double, 1 WCU per KB begun), spread over a batch of
:data:`BATCH` stream records as the event source mapping delivers them in a busy minute. Throughput is wrk through
gunicorn on SQLite, visitors on against off, alternating runs.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

from bench import ROOT, Size, alternate, compare, median
from bench.dynamo import DAY, dynalite_app, establish
from bench.http_load import SERVER, SHAPES, gunicorn, load
from counter_app.storage import Visitor
from counter_app.storage.dynamodb_visitors import visitors_key
from tests.capacity import Meter, item_bytes, write_units

SCRIPT = ROOT / "bench" / "unique_ids.lua"  # with "agent": every request a new visitor
SHAPE = SHAPES["1x4"]
BATCH = 100  # stream records a batch: the event source mapping's BatchSize (deploy/aggregator.py)
TRANSACTIONAL = 2  # a transactional write is billed twice


def capacity() -> dict:
    """WCU of a plain hit and of a stream hit with an id, with and without their visitor's record."""
    with dynalite_app() as app:
        establish(app)
        store = app.extensions["counter.store"]
        store.incr(DAY, "PAGEVIEW")
        meter = Meter().attach(store.client)
        now = int(time.time())
        ends = now + 3600

        def units(call) -> float:
            meter.clear()
            call()
            return sum(meter.units("UpdateItem") + meter.units("PutItem"))

        fresh = lambda: Visitor(uuid.uuid4().hex[:16], ends)  # noqa: E731
        plain_off = units(lambda: store.incr(DAY, "PAGEVIEW"))
        plain_on = units(lambda: store.incr(DAY, "PAGEVIEW", visitor=fresh()))
        seen = fresh()
        store.incr(DAY, "PAGEVIEW", visitor=seen)
        repeat_here = units(lambda: store.incr(DAY, "PAGEVIEW", visitor=seen))
        store.after_restore()  # a process that has not seen this visitor: it reads the record, and puts nothing
        repeat_elsewhere = units(lambda: store.incr(DAY, "PAGEVIEW", visitor=seen))
        repeat_elsewhere_puts = sum(name == "PutItem" for name, _ in meter.calls)  # failed ones too
        repeat_elsewhere_read = sum(meter.units("GetItem"))
        once = lambda visitor: store.incr_once(  # noqa: E731
            DAY, "PAGEVIEW", str(uuid.uuid4()), now=now, expires=now + 86400, read=False, visitor=visitor)
        id_off = units(lambda: once(None))
        id_on = units(lambda: once(fresh()))
        store._views = type(store._views)()  # the aggregator's first look at the day
        store.client.update_item(TableName=store.table, Key={"Day": {"N": str(visitors_key(DAY, True))}},
                                 UpdateExpression="ADD PAGEVIEW :n", ExpressionAttributeValues={":n": {"N": "9999"}})
        visitors_item = item_bytes(store.client.get_item(
            TableName=store.table, Key={"Day": {"N": str(visitors_key(DAY, True))}})["Item"])
        day_item = item_bytes(store.client.get_item(TableName=store.table, Key={"Day": {"N": str(DAY)}})["Item"])
    batch_off = TRANSACTIONAL * (1 + write_units(day_item))  # the checkpoint and the day item
    batch_on = batch_off + TRANSACTIONAL * write_units(visitors_item)  # and the visitors item

    def average(visitor_share: float) -> float:
        """WCU per hit with an id, over a busy minute, when ``visitor_share`` of hits are a visitor's first of the day
        (a repeat reads the visitor's record and writes nothing, as measured above)."""
        extra = (id_on - id_off) * visitor_share  # the visitor's record: 1 WCU
        records = 1 + visitor_share  # stream records per hit: the id's, and a new visitor's
        return round(id_off + extra + records * (batch_on if visitor_share else batch_off) / BATCH, 3)

    return {
        "plain_hit_wcu": {"off": plain_off, "on_new_visitor": plain_on, "on_repeat_seen_here": repeat_here,
                          "on_repeat_elsewhere": repeat_elsewhere},
        "repeat_elsewhere": {"put_items": repeat_elsewhere_puts, "read_units": repeat_elsewhere_read},
        "id_hit_wcu": {"off": id_off, "on_new_visitor": id_on},
        "visitors_item_bytes": visitors_item,
        "aggregator_batch_wcu": {"off": batch_off, "on": batch_on},
        "id_hit_wcu_averaged": {
            "off": average(0),
            "on_3_hits_a_visitor": average(1 / 3),
            "on_every_hit_a_new_visitor": average(1.0),
        },
        "rule": "a write is 1 WCU a KB begun, a failed conditional PutItem too, a transaction's twice; a consistent "
                "read 1 RCU per 4 KB",
    }


def sqlite(size: Size) -> dict:
    """wrk through gunicorn on SQLite: visitors off, on with one repeat visitor, on with every hit a new visitor."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {name: {"COUNTER_STORE": f"sqlite:///{tmp}/{name}.sqlite3", "COUNTER_VISITORS": flag}
               for name, flag in (("off", "false"), ("on", "true"))}
        with gunicorn("wsgi:app", env["off"], Path(tmp, "off.log")) as (off_url, _), \
                gunicorn("wsgi:app", env["on"], Path(tmp, "on.log")) as (on_url, _):
            runs = alternate({
                "off": partial(load, off_url, shape=SHAPE),
                "on_repeat": partial(load, on_url, shape=SHAPE),
                "on_new": lambda seconds: load(on_url, seconds, SCRIPT, uuid.uuid4().hex[:8], "agent", shape=SHAPE),
            }, size)
        with sqlite3.connect(f"{tmp}/on.sqlite3") as connection:
            (stored,) = connection.execute("SELECT SUM(visitors) FROM TEST_counters_visitors").fetchone()
    rps = {name: [run["rps"] for run in side] for name, side in runs.items()}
    return {
        "server": f"{SERVER}; wrk, {SHAPE[0]} thread(s), {SHAPE[1]} connections; two servers, runs alternating",
        "rps": {name: median(values) for name, values in rps.items()},
        "ratio_on_repeat": compare(rps["on_repeat"], rps["off"]),
        "ratio_on_new": compare(rps["on_new"], rps["off"]),
        "visitors_stored": stored,  # the one repeat visitor and every new one
        "requests_on_new": sum(run["requests"] for run in runs["on_new"]),
    }


def measure(size: Size) -> dict:
    """Visitors' write units on DynamoDB and their throughput ratio on SQLite."""
    return {"capacity": capacity(), "sqlite": sqlite(size)}
