"""What web pages embed: the counter.js script, the pixel and the badge."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_file
from werkzeug.exceptions import BadRequest

from . import auth, badge, days, params
from .auth import read_access
from .counting import record
from .totals import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, summarize

bp = Blueprint("web", __name__)

SCRIPT = Path(__file__).parent / "static" / "counter.js"
SCRIPT_MAX_AGE = 3600
BADGE_MAX_AGE = 300
# The most days a badge read without the token (COUNTER_PUBLIC_BADGES) may span: two items a day,
# so at most 62 reads a request whatever the query; deploy/cost.py bills exactly that.
PUBLIC_BADGE_DAYS = 31
# The smallest transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@bp.get("/counter.js")
def script() -> Response:
    """The script pages include to count events."""
    return send_file(SCRIPT, mimetype="text/javascript", max_age=SCRIPT_MAX_AGE)


@bp.get("/mark.gif")
@bp.get("/pixel.gif")  # the first name, still answering for old embeds: EasyPrivacy blocks "/pixel.gif?"
def pixel() -> Response:
    """Count like ``GET /`` and answer with a transparent 1x1 GIF; errors stay JSON."""
    record(mail=True)
    response = Response(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/badge.svg")
@read_access("PUBLIC_BADGES")
def badge_svg() -> Response:
    """An SVG badge: an event's total over the last ``days`` days, or with ``show=visitors`` its visitors."""
    event = params.single(request.args, "e")
    if event is params.MISSING:
        raise BadRequest("Missing 'e': say which event the badge shows, for example ?e=PAGEVIEW.")
    event = params.event_name(event)
    span = _days(params.single(request.args, "days"), MAX_RANGE_DAYS if auth.read_allowed() else PUBLIC_BADGE_DAYS)
    show = params.single(request.args, "show")
    if show not in (params.MISSING, "views", "visitors"):
        raise BadRequest("'show' must be views or visitors.")
    if show == "visitors" and not current_app.config["VISITORS"]:
        raise BadRequest("This counter does not count visitors (COUNTER_VISITORS is off).")
    last = days.today()
    # A views badge reads no visitors: a public badge's reads are what the bill counts on.
    summary = summarize(last - timedelta(days=span - 1), last, {event}, visitors=show == "visitors")
    if show == "visitors":  # a sum of days' visitors, as /summary gives it
        message = f"{summary['visitors'].get(event, 0):,} visitors / {span}d"
    else:
        message = f"{summary['totals'].get(event, 0):,} / {span}d"
    response = Response(badge.render(event, message), mimetype="image/svg+xml")
    response.cache_control.max_age = BADGE_MAX_AGE  # read_access makes it private when the token was needed
    return response


def _days(value: object, most: int) -> int:
    """The badge's ``days``: at most ``most``, which is PUBLIC_BADGE_DAYS for a read without the token."""
    if value is params.MISSING:
        return DEFAULT_RANGE_DAYS
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and 1 <= int(value) <= most):
        raise BadRequest(f"'days' must be a whole number from 1 to {most}"
                         + ("." if most == MAX_RANGE_DAYS else f", or up to {MAX_RANGE_DAYS} with the read token."))
    return int(value)
