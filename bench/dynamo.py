"""Parts 2 and 4: the DynamoDB path against raw boto3 on one dynalite, and what a summary costs."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TypeVar
from unittest import mock

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench import BROWSER, Size, add_days, alternate, compare, median, today
from counter_app import create_app
from counter_app.days import parse, span
from counter_app.storage.dynamodb import KEY
from tests.dynalite import Dynalite
from tests.moto_server import MotoServer

Server = TypeVar("Server", Dynalite, MotoServer)

# The bench app runs on the real clock: count today (UTC), which its backdating window accepts.
DAY = today()
YESTERDAY = add_days(DAY, -1)
SUMMARIES = {"30 days": ("20261029", "20261127"), "366 days": ("20251127", "20261127")}
SUMMARY_REPEATS = 5


@contextmanager
def dynalite() -> Iterator[Dynalite]:
    """A dynalite of its own, with the environment pointing boto3 at it with fake credentials."""
    with serving(Dynalite()) as server:
        yield server


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """``server`` (dynalite, or moto) started, with the environment pointing boto3 at it with fake credentials."""
    fake = {"AWS_ENDPOINT_URL_DYNAMODB": server.endpoint, "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    try:
        server.start()
        with mock.patch.dict(os.environ, fake):
            os.environ.pop("AWS_PROFILE", None)
            yield server
    finally:
        server.stop()


def table_app(prefix: str = "BENCH") -> Flask:
    """The counter on the table ``<prefix>_counters``, created if missing."""
    app = create_app({"STORE": "dynamodb://", "TABLE_PREFIX": prefix})
    app.extensions["counter.store"].create()
    return app


@contextmanager
def dynalite_app() -> Iterator[Flask]:
    """The counter on a fresh table in a dynalite of its own."""
    with dynalite():
        yield table_app()


def rate(make_call: Callable[[], Callable[[], None]], threads: int, seconds: float) -> float:
    """Calls per second made by ``threads`` threads, each calling its own ``make_call()`` until time is up."""
    done = [0] * threads
    failures: list[BaseException] = []
    # Made before the clock starts: on a busy machine a side's set-up (tables on moto) could use up a short run.
    calls = [make_call() for _ in range(threads)]
    deadline = time.monotonic() + seconds

    def work(slot: int) -> None:
        try:
            while time.monotonic() < deadline:
                calls[slot]()
                done[slot] += 1
        except BaseException as exc:  # reported to the caller below
            failures.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    if failures:
        raise failures[0]
    return round(sum(done) / (time.monotonic() - started), 1)


def through_app(app: Flask, fresh_ids: bool = False) -> Callable[[], Callable[[], None]]:
    """Each thread calls the WSGI app as a server would: routing, validation, the store, JSON.

    :param fresh_ids: send every increment with an id of its own, as counter.js does.
    """
    environ = EnvironBuilder(path="/", query_string={"e": "PAGEVIEW", "c": str(DAY)},
                             headers={"User-Agent": BROWSER}).get_environ()

    def make() -> Callable[[], None]:
        def call() -> None:
            status: list[str] = []
            sent = dict(environ)
            if fresh_ids:
                sent["QUERY_STRING"] += f"&id={uuid.uuid4().hex}"
            body = b"".join(app(sent, lambda code, headers, exc_info=None: status.append(code)))
            if status != ["200 OK"]:
                raise RuntimeError(f"the app answered {status}: {body!r}")

        return call

    return make


def raw_update(app: Flask) -> Callable[[], Callable[[], None]]:
    """Each thread sends the same UpdateItem straight through the same boto3 client."""
    store = app.extensions["counter.store"]

    def make() -> Callable[[], None]:
        def call() -> None:
            store.client.update_item(
                TableName=store.table, Key={KEY: {"N": str(DAY)}}, UpdateExpression="ADD #e :n",
                ExpressionAttributeNames={"#e": "PAGEVIEW"}, ExpressionAttributeValues={":n": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )

        return call

    return make


def establish(app: Flask) -> None:
    """Count PAGEVIEW the day before: established, it goes to the day item (the hot path), as raw writes do."""
    app.extensions["counter.store"].incr(YESTERDAY, "PAGEVIEW")


def writes(app: Flask, size: Size) -> dict:
    """Alternate timed runs of the app and of raw UpdateItem at the same concurrency."""
    establish(app)
    sides = {"app": through_app(app), "raw": raw_update(app)}
    runs = alternate({name: partial(rate, make, size.threads) for name, make in sides.items()}, size)
    return {
        "threads": size.threads,
        "app_per_s": median(runs["app"]),
        "raw_per_s": median(runs["raw"]),
        "ratio": compare(runs["app"], runs["raw"]),
        "runs": runs,
    }


def summaries(app: Flask, size: Size) -> dict:
    """DynamoDB requests (retries included) and milliseconds per summary, over a year of full days."""
    store = app.extensions["counter.store"]
    first, last = SUMMARIES["366 days"]
    client = app.test_client()
    for day in span(parse(first), parse(last)):
        store.client.update_item(
            TableName=store.table, Key={KEY: {"N": str(day)}}, UpdateExpression="ADD PAGEVIEW :n, SIGNUP :n, CLICK :n",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )
    sent: list[str] = []
    store.client.meta.events.register("before-send.dynamodb.*", lambda **_: sent.append("request"))
    result = {}
    for name, (first, last) in SUMMARIES.items():
        requests, millis = [], []
        for _ in range(max(size.runs, SUMMARY_REPEATS)):
            sent.clear()
            started = time.perf_counter()
            reply = client.get("/summary", query_string={"from": first, "to": last})
            millis.append((time.perf_counter() - started) * 1000)
            if reply.status_code != 200:
                raise RuntimeError(f"the summary answered {reply.status_code}: {reply.get_data(as_text=True)}")
            requests.append(len(sent))
        result[name] = {"days": len(reply.json["days"]), "requests": max(requests), "ms": median(millis),
                        "events": len(reply.json["totals"])}
    return result


def measure(size: Size) -> dict:
    """Both DynamoDB comparisons on one dynalite."""
    with dynalite_app() as app:
        return {"writes": writes(app, size), "summaries": summaries(app, size)}
