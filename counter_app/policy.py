"""What the public endpoint may count: allowed names, a window of days, no bots, a cap per day."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask, Request, current_app
from werkzeug.exceptions import BadRequest, HTTPException, UnprocessableEntity

from . import agents, params

ANY = "*"  # COUNTER_EVENTS=* says "any valid name" on purpose
DAYS_AHEAD = 1  # time zones: a visitor's today may be the server's tomorrow
FLAGS = {"true": True, "false": False}  # the documented spellings only: "yes" or "1" is more likely a slip
# Whole-number settings and their ranges. Past these a request would fail, not the start:
# SQLite holds integers below 2**63, and the window must stay inside the calendar.
WHOLE = {
    "BACKDATE_DAYS": (0, 36500),  # a century; older days are the owner's to import
    "MAX_EVENTS_PER_DAY": (1, 1_000_000),  # a DynamoDB day item (400 KB) holds far fewer
    "MAX_CONTENT_LENGTH": (0, 1024 * 1024),  # a counting body is a few bytes
    "IDEMPOTENCY_HOURS": (1, 720),  # retries come within minutes; every id is kept (and stored) this long
    "REQUEST_SECONDS": (4, 900),  # one DynamoDB call (1 s connect + 2 s read) must fit; Lambda's longest timeout
}


def init_app(app: Flask) -> None:
    """Check and normalise the policy settings, failing at start-up with the variable's name.

    ``from_prefixed_env`` parses values as JSON, so ``"true"`` arrives as ``True``, ``"31"`` as ``31``
    and ``PAGEVIEW,SIGNUP`` as a string; every form is accepted here and stored normalised.
    """
    config = app.config
    config["EVENTS"] = _allowlist(config["EVENTS"])
    for name, (least, most) in WHOLE.items():
        config[name] = _whole(config, name, least, most)
    for name in ("COUNT_BOTS", "PUBLIC_BADGES", "VISITORS"):
        config[name] = _flag(config, name)


def _whole(config: dict[str, Any], name: str, least: int, most: int) -> int:
    value = config[name]
    # At most 20 digits: int() refuses strings of over 4,300 digits with an error that names no variable.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 20:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise ValueError(f"COUNTER_{name}={str(value)[:40]!r} must be a whole number from {least} to {most}")
    return value


def _flag(config: dict[str, Any], name: str) -> bool:
    value = config[name]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in FLAGS:
        return FLAGS[value.strip().lower()]
    raise ValueError(f"COUNTER_{name}={str(value)[:40]!r} must be true or false")


def _allowlist(value: Any) -> frozenset[str] | None:
    if value is None or value == "" or (isinstance(value, str) and value.strip() == ANY):
        return None
    parts = value.split(",") if isinstance(value, str) else [value] if isinstance(value, int) else value
    if not isinstance(parts, (list, tuple, set, frozenset)):
        raise ValueError(f"COUNTER_EVENTS={value!r} must be a comma-separated list such as PAGEVIEW,SIGNUP")
    try:
        return frozenset(params.event_name(str(part)) for part in parts)
    except HTTPException:
        raise ValueError(f"COUNTER_EVENTS={value!r} must list event names of {params.EVENT_RULE}") from None


def admit(request: Request, event: str, day: date, today: date, *, mail: bool = False) -> bool:
    """Whether to count this hit: ``False`` for a bot, a HEAD or a prefetch; raise for a name or day it refuses.

    :param mail: the route is one that mail services fetch for a person reading an e-mail (the pixel).
    """
    config = current_app.config
    allowed = config["EVENTS"]
    if allowed is not None and event not in allowed:
        raise UnprocessableEntity(f"'e' is not one of the events this counter accepts: {event}.")
    if not -config["BACKDATE_DAYS"] <= (day - today).days <= DAYS_AHEAD:  # no date arithmetic to overflow
        raise BadRequest(
            f"'c' must be a day from {config['BACKDATE_DAYS']} days ago to tomorrow; "
            "older days are imported by the owner."
        )
    if request.method == "HEAD" or agents.is_prefetch(request.headers):  # link checkers and prefetchers
        return False
    return config["COUNT_BOTS"] or not agents.is_bot(request.headers.get("User-Agent", ""), mail=mail)
