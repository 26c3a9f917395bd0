"""``GET /metrics``: today's and yesterday's counts, the store's health and the alerts, as OpenMetrics text.

A scrape reads at most: the store's health check, the four items of today and yesterday (one BatchGetItem),
their four visitors items when visitors are counted (one more), and, with alert rules, the small item of their
marks. See docs/alerts.md for the types and the cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app

from . import alerts, days
from .auth import read_access
from .storage import StoreUnavailable
from .store import get_store
from .totals import visitors_on

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@bp.get("/metrics")
@read_access()
def metrics() -> Response:
    """Counts and health for Prometheus, in the OpenMetrics text format."""
    response = Response("".join(_lines()), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _family(name: str, kind: str, text: str, samples: list[tuple[str, float]], unit: str = "") -> Iterator[str]:
    """One metric family: ``# TYPE``, ``# UNIT`` if given, ``# HELP``, then its samples (``labels``, value)."""
    yield f"# TYPE {name} {kind}\n"
    if unit:
        yield f"# UNIT {name} {unit}\n"
    yield f"# HELP {name} {text}\n"
    for labels, value in samples:
        yield f"{name}{labels} {_number(value)}\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _label(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{{{name}="{escaped}"}}'


def _lines() -> Iterator[str]:
    zone = current_app.extensions["counter.timezone"]
    today = days.today()
    start = datetime.combine(today, datetime.min.time(), zone)
    began = time.perf_counter()
    try:
        get_store().check()
        up = 1
    except StoreUnavailable:
        up = 0
    took = time.perf_counter() - began
    wanted = [days.to_int(today), days.to_int(today - timedelta(days=1))]
    yield from _per_day("events", "Events counted", get_store().get(wanted) if up else {}, wanted)
    if visitors_on():
        yield from _per_day("visitors", "Visitors (distinct hashes of a day) counted",
                            get_store().visitors(wanted) if up else {}, wanted)
    yield from _family("counter_day_start_timestamp_seconds", "gauge",
                       "When today began in the reporting time zone, as a Unix time.",
                       [("", start.timestamp())], unit="seconds")
    yield from _family("counter_store_up", "gauge", "1 if the store answered its health check, else 0.", [("", up)])
    yield from _family("counter_store_check_seconds", "gauge", "How long the store's health check took.",
                       [("", round(took, 6))], unit="seconds")
    fired = alerts.last_fired() if up else []
    yield from _family("counter_alert_last_fired_timestamp_seconds", "gauge",
                       "When each alert rule last fired, as a Unix time (0: never).",
                       [(_label("rule", rule["name"]), _timestamp(rule["fired"])) for rule in fired], unit="seconds")
    yield "# EOF\n"


def _per_day(what: str, text: str, figures: dict[int, dict[str, int]], wanted: list[int]) -> Iterator[str]:
    """The gauges ``counter_<what>_today`` and ``_yesterday``, one sample per event, from ``figures`` by day."""
    for day, when in zip(wanted, ("today", "yesterday")):
        shown = sorted(figures.get(day, {}).items())
        yield from _family(f"counter_{what}_{when}", "gauge", f"{text} {when}{' so far' if when == 'today' else ''}, "
                           "per event, in the reporting time zone's day; a day's figure starts again from 0 at "
                           "midnight.", [(_label("event", event), count) for event, count in shown])


def _timestamp(text: str | None) -> float:
    return datetime.fromisoformat(text).timestamp() if text else 0
