"""Part 1b: what one counting request costs in-process, piece by piece, against the bare endpoint.

Each request is a WSGI call straight into the app (no server, no socket), ``GET /?e=PAGEVIEW`` with a real
browser's User-Agent, on one SQLite file; the pieces are timed alone inside a request context. The best of
:data:`ROUNDS` rounds of ``Size``-dependent many calls is kept: the least disturbed by the machine's other load.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask, request
from werkzeug.test import EnvironBuilder

from bench import BROWSER, Size
from bench.bare_app import app as bare_app
from counter_app import agents, create_app, days, headers, params, policy
from counter_app.compress import compress
from counter_app.store import get_store

ROUNDS = 3
CALLS = {"tiny": 300, "full": 5000}
PATH = "/?e=PAGEVIEW"


def best_us(call: Callable[[], object], calls: int) -> float:
    """Microseconds per ``call()``: the best of ROUNDS rounds of ``calls`` calls."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - started) / calls)
    return round(best * 1e6, 1)


def through(app: Flask) -> Callable[[], object]:
    """One whole request into ``app``, as a WSGI server makes it."""
    environ = EnvironBuilder(path=PATH, headers={"User-Agent": BROWSER}).get_environ()

    def call() -> object:
        return b"".join(app(dict(environ), lambda status, headers, exc_info=None: None))

    return call


def parts(app: Flask, calls: int) -> dict[str, float]:
    """The counter's own steps, each timed alone in one request's context."""
    store = get_store()
    response = app.response_class('{"count":1}', mimetype="application/json")
    hooks = app.after_request_funcs[None]
    today = days.today()
    return {
        "parse e and c": best_us(lambda: params.event_name(params.increment(request)[0]), calls),
        "today()": best_us(days.today, calls),
        "policy (window, prefetch, bot check of a seen agent)": best_us(
            lambda: policy.admit(request, "PAGEVIEW", today, today), calls),
        "bot check of a new agent (crawlerdetect)": best_us(
            lambda: agents._detector()._check_crawler(f"{BROWSER} {time.perf_counter_ns()}"), max(1, calls // 20)),
        "SQLite increment (one process)": best_us(lambda: store.incr(days.to_int(today), "PAGEVIEW"), calls),
        "reply hooks (CORS, security headers, gzip check)": best_us(
            lambda: [hook(response) for hook in reversed(hooks)], calls),
        "security headers alone": best_us(lambda: headers.secure(response), calls),
        "gzip check alone": best_us(lambda: compress(response), calls),
    }


def measure(size: Size) -> dict:
    """Whole requests of the bare app, the counter, and the counter with its write stubbed; then the pieces."""
    calls = CALLS[size.name]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"STORE": f"sqlite:///{Path(tmp, 'bench.sqlite3')}"})
        result = {"bare_us": best_us(through(bare_app), calls), "app_us": best_us(through(app), calls)}
        store = app.extensions["counter.store"]
        real = store.incr
        store.incr = lambda *args, **kwargs: 1
        result["app_without_write_us"] = best_us(through(app), calls)
        store.incr = real
        with app.test_request_context(PATH, headers={"User-Agent": BROWSER}):
            result["parts_us"] = parts(app, calls)
    return result | {"calls": calls, "rounds": ROUNDS, "day": date.today().isoformat()}
