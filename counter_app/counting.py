"""The public routes: count an event, read the summary, check health."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from . import days, params, policy
from .auth import read_access
from .store import get_store

bp = Blueprint("counting", __name__)

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366


def record() -> dict:
    """Validate the request's ``e`` and ``c`` and apply the policy, then count it; raise before any write."""
    raw_event, raw_day = params.increment(request)
    if raw_event is params.MISSING:
        raise BadRequest("Missing 'e': say which event to count, for example ?e=PAGEVIEW.")
    event = params.event_name(raw_event)
    when = days.today() if raw_day is params.MISSING else params.day(raw_day)
    day = days.to_int(when)
    if not policy.admit(request, event, when):
        return {"status": "success", "eventkey": event, "day": day, "counted": False}
    count = get_store().incr(day, event, max_events=current_app.config["MAX_EVENTS_PER_DAY"])
    return {"status": "success", "eventkey": event, "day": day, "count": count}


@bp.route("/", methods=["GET", "POST"])
def increment() -> Response:
    """Add 1 to an event's counter for the day."""
    response = jsonify(record())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/summary")
@read_access()
def summary() -> Response:
    """Daily counts and totals over a range, as JSON or CSV."""
    last = params.single(request.args, "to")
    first = params.single(request.args, "from")
    last = days.today() if last is params.MISSING else params.day(last, "to")
    first = last - timedelta(days=DEFAULT_RANGE_DAYS - 1) if first is params.MISSING else params.day(first, "from")
    if first > last:
        raise BadRequest("'from' must not be after 'to'.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"The range may span at most {MAX_RANGE_DAYS} days.")
    wanted = params.event_filter(params.single(request.args, "e"))
    fmt = params.single(request.args, "format")
    if fmt not in (params.MISSING, "json", "csv"):
        raise BadRequest("'format' must be json or csv.")

    span = days.span(first, last)
    stored = get_store().get(span)
    rows = [
        {"day": day, "counts": {e: n for e, n in sorted(stored.get(day, {}).items()) if wanted is None or e in wanted}}
        for day in span
    ]
    totals: dict[str, int] = {}
    for row in rows:
        for event, count in row["counts"].items():
            totals[event] = totals.get(event, 0) + count

    if fmt == "csv" or (fmt is params.MISSING and _prefers_csv()):
        return _csv(rows)
    return jsonify({"from": span[0], "to": span[-1], "days": rows, "totals": dict(sorted(totals.items()))})


def _prefers_csv() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def _csv(rows: list[dict]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "event", "count"])
    for row in rows:
        for event, count in row["counts"].items():
            writer.writerow([row["day"], event, count])
    return Response(out.getvalue(), mimetype="text/csv")


@bp.get("/healthz")
def healthz() -> Response:
    """200 when the store answers, 503 otherwise."""
    get_store().check()
    return jsonify(status="ok")
