"""Exactly once, through gunicorn: clients retry every increment with its id until it is answered 200, while faults
strike the store and the replies; the store ends up holding one count per id, exactly.

The faults: the store paused mid-load (a held SQLite lock, a SIGSTOPped DynamoDB server), replies lost after the
write (a proxy that drops them, workers SIGKILLed), and DynamoDB's reply arriving after the read timeout although
the write was applied (a proxy that delays it). DynamoDB here is moto served by one thread (tests/moto_server.py),
which applies transactions one at a time; that real DynamoDB does so under concurrency is its own guarantee. Each
DynamoDB run goes twice: on moto alone, and on moto behind the contention stand-in (tests/contention.py), which
refuses what DynamoDB refuses while a transaction holds the day item, so that the runs meet conflicts and retry them.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from counter_app import create_app
from counter_app.store import get_store
from tests.conftest import aggregated, on_stream
from tests.contention import Contention, ContentionStore
from tests.gunicorn import Gunicorn
from tests.moto_server import MotoServer
from tests.proxy import Proxy

EVENT = "ONCE"
# The ids the clients make (uuid4().hex), as a request to the counter carries one, and one to DynamoDB.
ID = re.compile(rb'(?:\bid=|"Id": \{"S": ")([0-9a-f]{32})\b')
THREADS = 8
WORKERS = 4  # gunicorn's: a fault strikes as many requests in flight at once
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
LOAD_TIMEOUT = 240.0  # seconds for a whole run: a client that has not got all its 200s by then fails the test
# The three framings a page or a backend uses: a query, a form, and what counter.js sends (text/plain).
FRAMINGS = [
    lambda key: ("GET", f"/?e={EVENT}&id={key}", None, {}),
    lambda key: ("POST", "/", f"e={EVENT}&id={key}", {"Content-Type": "application/x-www-form-urlencoded"}),
    lambda key: ("POST", "/", f"e={EVENT}&id={key}", {"Content-Type": "text/plain;charset=UTF-8"}),
]


class Load:
    """``THREADS`` clients, each sending its share of ``ids`` and retrying each until it is answered 200."""

    def __init__(self, url: str, count: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.ids = [uuid.uuid4().hex for _ in range(count)]
        self.answered: dict[str, bool] = {}  # id -> whether its 200 said "duplicate"
        self.tally: Counter[str] = Counter()  # attempts, 503s, lost replies, unexpected answers
        self.unexpected: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + LOAD_TIMEOUT
        self._threads = [threading.Thread(target=self._client, args=(self.ids[n::THREADS],)) for n in range(THREADS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self._threads:
            thread.join(timeout=LOAD_TIMEOUT + 30)

    @property
    def acked(self) -> int:
        return len(self.answered)

    def wait_for(self, acked: int) -> None:
        """Block until ``acked`` ids were answered 200 (or every client stopped)."""
        while self.acked < acked and any(thread.is_alive() for thread in self._threads):
            time.sleep(0.01)

    def _client(self, ids: list[str]) -> None:
        for number, key in enumerate(ids):
            framing = FRAMINGS[number % len(FRAMINGS)]
            for attempt in itertools.count():
                if time.monotonic() > self._deadline:
                    return
                status, body = self._send(*framing(key))
                if status == 200:
                    with self._lock:
                        self.answered[key] = json.loads(body).get("duplicate", False)
                    break
                with self._lock:
                    self.tally["503" if status == 503 else "lost" if status is None else "unexpected"] += 1
                    if status not in (503, None):
                        self.unexpected.append((status, body))
                time.sleep(min(0.02 * 2**attempt, 0.5))

    def _send(self, method: str, path: str, body: str | None, headers: dict[str, str]) -> tuple[int | None, str]:
        with self._lock:
            self.tally["attempts"] += 1
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers={"User-Agent": BROWSER, **headers})
            reply = conn.getresponse()
            return reply.status, reply.read().decode()
        except (OSError, http.client.HTTPException):
            return None, ""  # no reply: the worker died, or the reply was lost on the way
        finally:
            conn.close()

    def summary(self, stored: int) -> dict[str, int]:
        duplicates = sum(self.answered.values())
        return {"distinct": len(self.ids), "stored": stored, "answered_200": self.acked, "duplicates": duplicates,
                **self.tally}


def check(name: str, load: Load, stored: int, applied_unheard: list[bytes] = ()) -> dict[str, int]:
    """The run's numbers (printed for the record); every id answered 200 and stored exactly once.

    :param applied_unheard: requests whose write was applied (the store answered 200) but whose client never
        heard it: each of their ids must have ended as a duplicate.
    """
    unheard = {key.decode() for sent in applied_unheard for key in ID.findall(sent)}
    numbers = {**load.summary(stored), "applied_unheard": len(unheard)}
    print(f"exactly once, {name}: {json.dumps(numbers)}")
    assert load.unexpected == []
    assert load.acked == len(load.ids)
    assert stored == len(load.ids)
    assert unheard <= set(load.ids)
    assert [key for key in unheard if not load.answered[key]] == []
    return numbers


def run(env: dict[str, str], log, count: int, fault: Callable[[Load, Gunicorn, Proxy], None]) -> tuple[Load, Proxy]:
    """Serve the counter with ``env`` behind a proxy that can lose replies, load it, and strike with ``fault``."""
    with Gunicorn(env, log, WORKERS) as server, Proxy(server.port) as front, Load(front.url, count) as load:
        fault(load, server, front)
    return load, front


def lose_replies(load: Load, server: Gunicorn, front: Proxy) -> None:
    """Drop every reply for half a second, then SIGKILL a worker, twice, as the load goes on."""
    total = len(load.ids)
    for share in (0.2, 0.5):
        load.wait_for(int(total * share))
        front.drop = 10**9  # every reply for half a second
        time.sleep(0.5)
        front.drop = 0
        load.wait_for(int(total * (share + 0.15)))
        assert server.kill_worker()


def sqlite_total(path) -> int:
    query = "SELECT SUM(count) FROM TEST_counters WHERE event = ?"
    (total,) = sqlite3.connect(path).execute(query, (EVENT,)).fetchone()
    return total or 0


def test_sqlite_a_held_lock(tmp_path):
    path = tmp_path / "once.sqlite3"

    def hold_the_lock(load: Load, server: Gunicorn, front: Proxy) -> None:
        load.wait_for(150)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # longer than the 2 s an increment waits for the lock
        time.sleep(3)
        holder.execute("ROLLBACK")
        holder.close()

    load, _ = run({"COUNTER_STORE": f"sqlite:///{path}"}, tmp_path / "gunicorn.log", 600, hold_the_lock)
    numbers = check("SQLite, lock held 3 s", load, sqlite_total(path))
    assert numbers["503"] > 0
    assert numbers["duplicates"] == 0  # on SQLite a 503 counted nothing, so no retry was a repeat


def test_sqlite_replies_lost_after_the_write(tmp_path):
    path = tmp_path / "once.sqlite3"
    load, front = run({"COUNTER_STORE": f"sqlite:///{path}"}, tmp_path / "gunicorn.log", 600, lose_replies)
    # Each reply lost after a committed write came back as a duplicate when its client retried.
    numbers = check("SQLite, replies dropped and workers killed", load, sqlite_total(path), front.dropped)
    assert numbers["applied_unheard"] > 0 and numbers["lost"] > numbers["applied_unheard"]


@dataclass
class Dynamo:
    """The DynamoDB of a run: moto (``server``, to pause), the ``endpoint`` the app calls, and the stand-in if any."""

    server: MotoServer
    endpoint: str
    stand_in: Contention | None = None


class Aggregating:
    """``flask aggregate --follow`` as a supervisor runs it: polled in a thread, started again after a failure."""

    def __init__(self, app) -> None:
        self.app = app
        self.stop = threading.Event()
        self.failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Aggregating:
        if on_stream(self.app):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                aggregated(self.app)
            except AssertionError:
                self.failures += 1  # the store was paused or lost a reply: nothing is lost, the next poll goes on
            self.stop.wait(0.5)


@pytest.fixture(params=["moto-transaction", "contention-transaction", "moto-stream", "contention-stream"])
def moto(request, monkeypatch):
    """A single-threaded moto of its own (it gets paused), alone or behind the contention stand-in, with the
    counter's tables made in it; ids written in one transaction with their count, or as stream records."""
    where, writes = request.param.split("-")
    if where == "moto":
        server = MotoServer().start()
        store, stopping = Dynamo(server, server.endpoint), server
    else:
        stopping = ContentionStore()
        stand_in = stopping.__enter__()
        store = Dynamo(stopping.moto, stand_in.endpoint, stand_in)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", store.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", store.server.endpoint)
    app = create_app({"STORE": "dynamodb://", "TABLE_PREFIX": f"T{uuid.uuid4().hex[:12]}",
                      "IDEMPOTENT_WRITES": writes})
    with app.app_context():
        get_store().create()
    yield store, app
    stopping.__exit__(None, None, None)
    if store.stand_in:
        conflicts = {f"{operation} {outcome}": number for (operation, outcome), number in store.stand_in.calls.items()
                     if outcome != "ok"}
        print(f"contention stand-in refused or cancelled: {json.dumps(conflicts)}")
        if writes == "transaction":
            # DynamoDB would have refused some of these transactions; the counter retried them and stayed exact.
            assert store.stand_in.count("TransactWriteItems", "conflict") > 0
        else:
            # No hit is a transaction: no id record is ever held, and the aggregator's batches went through.
            assert store.stand_in.count("PutItem", "conflict") == 0
            assert store.stand_in.count("TransactWriteItems") > 0


def on_dynamodb(app, endpoint: str) -> dict[str, str]:
    """The environment of a gunicorn serving ``app``'s tables at ``endpoint``."""
    return {"COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": app.config["TABLE_PREFIX"],
            "COUNTER_IDEMPOTENT_WRITES": app.config["IDEMPOTENT_WRITES"], "AWS_ENDPOINT_URL_DYNAMODB": endpoint}


def dynamodb_total(app) -> int:
    """What the store holds once every id written has been aggregated (the stream path's last poll)."""
    aggregated(app)
    with app.app_context():
        return sum(events.get(EVENT, 0) for _, events in get_store().dump())


def test_dynamodb_the_store_paused(moto, tmp_path):
    store, app = moto
    server = store.server

    def pause(load: Load, gunicorn: Gunicorn, front: Proxy) -> None:
        for acked in (100, 250):
            load.wait_for(acked)
            server.pause()  # calls queue unanswered; the app gives up after 2 s, and they are applied on resume
            time.sleep(3)
            server.resume()

    with Aggregating(app):
        load, _ = run(on_dynamodb(app, store.endpoint), tmp_path / "gunicorn.log", 400, pause)
    numbers = check("DynamoDB (moto), store SIGSTOPped 3 s twice", load, dynamodb_total(app))
    # The calls the app gave up on were applied once the store went on: their retries were duplicates.
    assert numbers["503"] > 0 and numbers["duplicates"] > 0


def test_dynamodb_replies_lost_after_the_write(moto, tmp_path):
    store, app = moto
    with Aggregating(app):
        load, front = run(on_dynamodb(app, store.endpoint), tmp_path / "gunicorn.log", 400, lose_replies)
    numbers = check("DynamoDB (moto), replies dropped and workers killed", load, dynamodb_total(app), front.dropped)
    assert numbers["applied_unheard"] > 0 and numbers["lost"] > numbers["applied_unheard"]


def test_dynamodb_the_read_timeout_after_the_write_was_applied(moto, tmp_path):
    store, app = moto
    # The write that carries the id: the transaction, or on the stream path the id record's PutItem.
    marker = b"DynamoDB_20120810.PutItem" if on_stream(app) else b"TransactWriteItems"
    with Proxy(urlsplit(store.endpoint).port, marker=marker) as back, Aggregating(app):

        def late_replies(load: Load, gunicorn: Gunicorn, front: Proxy) -> None:
            for acked in (100, 200, 300):
                load.wait_for(acked)
                back.delay = 2.5  # past botocore's 2 s read timeout: the app answers 503, the write is in
                time.sleep(1.5)
                back.delay = 0

        load, _ = run(on_dynamodb(app, back.url), tmp_path / "gunicorn.log", 400, late_replies)
    # Every transaction applied whose reply came too late was retried and answered as a duplicate.
    numbers = check("DynamoDB (moto), replies later than the read timeout", load, dynamodb_total(app), back.delayed)
    assert numbers["applied_unheard"] > 0 and numbers["503"] >= numbers["applied_unheard"]
