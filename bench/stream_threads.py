"""Idempotent hits at the store level, no HTTP: hits/s against threads on each path, on the contention stand-in.

``python -m bench.stream_threads [SECONDS]``. Each thread calls ``incr_once`` with fresh ids on one event and
one day, as browsers would; the transaction path puts the day item in every call, the stream path writes only
the id record (the aggregator is left out: one transaction a batch, not per hit). The two paths alternate at
each thread count, so both meet the same machine; what they print is hits/s and the stream path's ratio.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Any

from bench import today
from counter_app import create_app
from counter_app.storage import StoreUnavailable
from tests.contention import ContentionStore

THREADS = (1, 2, 4, 8, 16)


def store_on(endpoint: str, writes: str) -> Any:
    """A fresh pair of tables at ``endpoint``, written the ``writes`` way."""
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    for name, value in (("AWS_DEFAULT_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)  # moto's: never a real account
    app = create_app({"STORE": "dynamodb://", "TABLE_PREFIX": f"B{uuid.uuid4().hex[:10]}", "IDEMPOTENT_WRITES": writes})
    store = app.extensions["counter.store"]
    store.create()
    day = today()
    store.incr(day, "PAGEVIEW")  # placed: no hit pays for placing it
    return store


def hits_per_second(store: Any, threads: int, seconds: float) -> tuple[float, int]:
    """Hits acknowledged per second by ``threads`` callers for ``seconds``, and the calls refused (503)."""
    day, done, refused, stop = today(), [0] * threads, [0] * threads, time.monotonic() + seconds

    def caller(n: int) -> None:
        while time.monotonic() < stop:
            now = int(time.time())
            try:
                store.incr_once(day, "PAGEVIEW", uuid.uuid4().hex, now=now, expires=now + 86400, read=False)
                done[n] += 1
            except StoreUnavailable:
                refused[n] += 1

    workers = [threading.Thread(target=caller, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / seconds, sum(refused)


def main(seconds: float = 3.0) -> None:
    with ContentionStore() as stand_in:
        stores = {writes: store_on(stand_in.endpoint, writes) for writes in ("transaction", "stream")}
        print(f"{'threads':>7} {'transaction/s':>14} {'503s':>5} {'stream/s':>9} {'503s':>5} {'ratio':>6}")
        for threads in THREADS:
            rate = {writes: hits_per_second(store, threads, seconds) for writes, store in stores.items()}
            (tx, tx_refused), (st, st_refused) = rate["transaction"], rate["stream"]
            print(f"{threads:>7} {tx:>14.0f} {tx_refused:>5} {st:>9.0f} {st_refused:>5} {st / tx:>6.2f}")
    print(f"cores: {os.cpu_count()}; moto answers on one thread, behind the stand-in's proxy")


if __name__ == "__main__":
    main(*(float(arg) for arg in sys.argv[1:]))
