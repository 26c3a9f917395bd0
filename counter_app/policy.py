"""What the public endpoint may count: allowed names, a window of days, no bots, a cap per day."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from flask import Flask, Request, current_app
from werkzeug.exceptions import BadRequest, HTTPException, UnprocessableEntity

from . import params

ANY = "*"  # COUNTER_EVENTS=* says "any valid name" on purpose
DAYS_AHEAD = 1  # time zones: a visitor's today may be the server's tomorrow
# crawlerdetect's regex costs about 30 ms per 1,000 characters; real agents are far shorter.
AGENT_CHARS = 512
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def init_app(app: Flask) -> None:
    """Check and normalise the policy settings, failing at start-up with the variable's name.

    ``from_prefixed_env`` parses values as JSON, so ``"true"`` arrives as ``True``, ``"31"`` as ``31``
    and ``PAGEVIEW,SIGNUP`` as a string; every form is accepted here and stored normalised.
    """
    config = app.config
    config["EVENTS"] = _allowlist(config["EVENTS"])
    config["BACKDATE_DAYS"] = _whole(config, "BACKDATE_DAYS", 0)
    config["MAX_EVENTS_PER_DAY"] = _whole(config, "MAX_EVENTS_PER_DAY", 1)
    for name in ("COUNT_BOTS", "PUBLIC_BADGES"):
        config[name] = _flag(config, name)


def _whole(config: dict[str, Any], name: str, least: int) -> int:
    value = config[name]
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"COUNTER_{name}={value!r} must be a whole number of at least {least}")
    return value


def _flag(config: dict[str, Any], name: str) -> bool:
    value = config[name]
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"COUNTER_{name}={value!r} must be true or false")


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


def admit(request: Request, event: str, day: date, today: date) -> bool:
    """Whether to count this hit: ``False`` for a bot or a HEAD; raise for a name or day the counter refuses."""
    config = current_app.config
    allowed = config["EVENTS"]
    if allowed is not None and event not in allowed:
        raise UnprocessableEntity(f"'e' is not one of the events this counter accepts: {event}.")
    if not today - timedelta(days=config["BACKDATE_DAYS"]) <= day <= today + timedelta(days=DAYS_AHEAD):
        raise BadRequest(
            f"'c' must be a day from {config['BACKDATE_DAYS']} days ago to tomorrow; "
            "older days are imported by the owner."
        )
    if request.method == "HEAD":  # link checkers and prefetchers: answered like GET, never counted
        return False
    return config["COUNT_BOTS"] or not is_bot(request.headers.get("User-Agent", ""))


def is_bot(user_agent: str) -> bool:
    """Whether ``user_agent`` is a known crawler's, judged on its first ``AGENT_CHARS`` characters."""
    return _detector().is_crawler(user_agent[:AGENT_CHARS])


@functools.cache
def _detector() -> Any:
    # Imported and built once per process on first use: the import and its
    # big regular expressions stay out of a cold start that never sees a bot check.
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()
