"""The public routes: count an event, read the summary, check health."""

from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from werkzeug.exceptions import BadRequest

from . import days, params, periods, policy, totals, visitors
from .auth import read_access, read_allowed
from .storage import Visitor
from .store import get_store

bp = Blueprint("counting", __name__)
SUMMARY_PARAMETERS = ("from", "to", "e", "group", "format")


def record(*, mail: bool = False) -> dict:
    """Validate the request's ``e``, ``c`` and ``id`` and apply the policy, then count it; raise before any write.

    :param mail: the route is the pixel, which mail services fetch for a person reading an e-mail.
    """
    # Every hit comes here: the request and the app are looked up behind their proxies once.
    hit, app = request._get_current_object(), current_app._get_current_object()
    raw_event, raw_day, raw_key = params.increment(hit)
    if raw_event is params.MISSING:
        raise BadRequest("Missing 'e': say which event to count, for example ?e=PAGEVIEW.")
    event = params.event_name(raw_event)
    key = None if raw_key is params.MISSING else params.idempotency_key(raw_key)
    today = days.today()
    when = today if raw_day is params.MISSING else params.day(raw_day)
    day = days.to_int(when)
    if not policy.admit(hit, event, when, today, mail=mail):
        return {"status": "success", "eventkey": event, "day": day, "counted": False}
    config = app.config
    # With an allowlist every name that gets here is known, so no slot can be taken from it.
    cap = None if config["EVENTS"] is not None else config["MAX_EVENTS_PER_DAY"]
    shown = read_allowed()  # a private counter's total is a read: it needs the token like /summary
    # Only a hit on today has a visitor: a day's salt exists while the day lasts.
    who = visitors.visitor(hit, day) if when == today else None
    count, duplicate = _add(day, event, key, cap, read=shown, hours=config["IDEMPOTENCY_HOURS"], visitor=who)
    reply: dict = {"status": "success", "eventkey": event, "day": day}
    if shown and count is not None:  # None: an id on DynamoDB's stream path, counted after the batch window
        reply["count"] = count
    if duplicate:
        reply["duplicate"] = True
    return reply


def _add(
    day: int, event: str, key: str | None, cap: int | None, *, read: bool, hours: int, visitor: Visitor | None
) -> tuple[int | None, bool]:
    """Add 1 to the counter, or with an idempotency ``key`` only if the key was not applied yet.

    :return: the count (``None`` if not ``read`` and the store had to read it) and whether it was a duplicate.
    """
    store = get_store()
    if key is None:
        return store.incr(day, event, max_events=cap, visitor=visitor), False
    now = int(days.now().timestamp())
    done = store.incr_once(day, event, key, now=now, expires=now + hours * 3600, max_events=cap, read=read,
                           visitor=visitor)
    return done.count, done.duplicate


@bp.route("/", methods=["GET", "POST"])
def increment() -> Response:
    """Add 1 to an event's counter for the day; a browser opening the address without ``e`` goes to the dashboard."""
    if request.method == "GET" and "e" not in request.args and _prefers(["application/json", "text/html"]):
        response = redirect(url_for("dashboard.dashboard"))
    else:
        response = jsonify(record())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/summary")
@read_access()
def summary() -> Response:
    """Counts per day (or per week or month) and totals over a range, as JSON or CSV."""
    params.only(request.args, SUMMARY_PARAMETERS)
    first, last, wanted = totals.requested_range(request.args)
    group = periods.requested(request.args)
    fmt = params.single(request.args, "format")
    if fmt not in (params.MISSING, "json", "csv"):
        raise BadRequest("'format' must be json or csv.")
    result = totals.summarize(first, last, wanted)
    if group != "day":
        result = periods.grouped(result, group, days.today())
    if fmt == "csv" or (fmt is params.MISSING and _prefers_csv()):
        out = io.StringIO()
        if group == "day":
            totals.write_csv(out, totals.summary_rows(result), totals.csv_header(result))
        else:
            periods.write_csv(out, group, result["periods"])
        return Response(out.getvalue(), mimetype="text/csv")
    return jsonify(result)


def _prefers_csv() -> bool:
    return _prefers(["application/json", "text/csv"])


def _prefers(types: list[str]) -> bool:
    """Whether the client ranks the second of ``types`` above the first (``*/*`` takes the first)."""
    return request.accept_mimetypes.best_match(types) == types[1]


@bp.get("/healthz")
def healthz() -> Response:
    """200 when the store answers, 503 otherwise."""
    get_store().check()
    return jsonify(status="ok")
