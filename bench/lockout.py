"""Part 5: a junk fill on DynamoDB (issue 10 §5): an established name's item size and WCU before and after; refusals."""

from __future__ import annotations

from flask import Flask

from bench import Size
from bench.dynamo import DAY, YESTERDAY, dynalite_app
from tests.capacity import Meter, item_bytes, write_units

REAL = ["PAGEVIEW", "SIGNUP", "CHECKOUT", "DOWNLOAD"]
SLOTS = 200  # COUNTER_MAX_EVENTS_PER_DAY's default
JUNK_LENGTH = 64  # the longest name the counter accepts
INCREMENTS = 10
REFUSALS = 20


def junk(n: int) -> str:
    return f"JUNK{n:04d}".ljust(JUNK_LENGTH, "X")


def _item(app: Flask, key: int) -> dict:
    store = app.extensions["counter.store"]
    reply = store.client.get_item(TableName=store.table, Key={"Day": {"N": str(key)}}, ConsistentRead=True)
    return reply.get("Item", {})


def _increments(app: Flask, meter: Meter) -> dict:
    """What INCREMENTS increments of PAGEVIEW cost, with the day item's size after them."""
    client = app.test_client()
    meter.clear()
    for _ in range(INCREMENTS):
        if client.get("/", query_string={"e": "PAGEVIEW"}).status_code != 200:
            raise RuntimeError("an established name was refused")
    calls = list(meter.calls)
    return {
        "calls_per_increment": len(calls) / INCREMENTS,
        "wcu_per_increment": sum(units or 0 for _, units in calls) / INCREMENTS,
        "day_item_bytes": item_bytes(_item(app, DAY)),
    }


def measure(size: Size) -> dict:
    """Count real events yesterday and today, measure, fill today's slots with junk, measure again, then refuse."""
    with dynalite_app() as app:
        client = app.test_client()
        for day in (YESTERDAY, DAY):
            for event in REAL:
                client.get("/", query_string={"e": event, "c": day})
        meter = Meter().attach(app.extensions["counter.store"].client)
        before = _increments(app, meter)
        codes = [client.get("/", query_string={"e": junk(n)}).status_code for n in range(SLOTS + REFUSALS)]
        after = _increments(app, meter)
        meter.clear()
        refused = [client.get("/", query_string={"e": junk(SLOTS + REFUSALS + n)}).status_code for n in range(REFUSALS)]
        refusal_calls = len(meter.calls)
        newcomers = item_bytes(_item(app, -DAY))
        return {
            "junk_admitted": codes.count(200),
            "before_fill": before,
            "after_fill": after,
            "newcomers_item_bytes": newcomers,
            "newcomers_item_wcu": write_units(newcomers),
            "refusals": {"refused": refused.count(409), "calls_per_refusal": refusal_calls / REFUSALS},
        }
