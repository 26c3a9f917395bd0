"""Days as the store keys them: ``int`` yyyyMMdd, in the configured time zone."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

# [0-9], not \d: \d also matches full-width digits. The dashed form is what a date picker sends.
_DATE = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")


def init_app(app: Flask) -> None:
    """Resolve ``TIMEZONE`` once, failing at start-up if it is unknown."""
    name = app.config["TIMEZONE"]
    try:
        app.extensions["counter.timezone"] = ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name longer than a file name may be
        raise ValueError(f"COUNTER_TIMEZONE={name!r} is not a known IANA time zone") from None
    app.extensions["counter.today"] = None, None


def now() -> datetime:
    """The app's clock: an aware datetime, the real time unless a test set ``CLOCK``."""
    clock = current_app.config["CLOCK"]
    return clock() if clock else datetime.now(timezone.utc)


def today() -> date:
    """Today's date in the app's time zone; on the real clock worked out once a second, as every hit asks."""
    app = current_app._get_current_object()
    if app.config["CLOCK"]:
        return now().astimezone(app.extensions["counter.timezone"]).date()
    second, known = app.extensions["counter.today"]
    if int(time.time()) != second:
        second = int(time.time())
        known = datetime.fromtimestamp(second, app.extensions["counter.timezone"]).date()
        app.extensions["counter.today"] = second, known
    return known


def to_int(day: date) -> int:
    """``date(2026, 11, 27)`` -> ``20261127``."""
    return day.year * 10000 + day.month * 100 + day.day


def from_int(day: int) -> date:
    """``20261127`` -> ``date(2026, 11, 27)``."""
    return date(day // 10000, day // 100 % 100, day % 100)


def parse(text: str, name: str = "c") -> date:
    """Parse ``YYYYMMDD`` or ``YYYY-MM-DD`` (ASCII digits) forming a real calendar date.

    :raises ValueError: with a sentence naming the parameter.
    """
    found = _DATE.fullmatch(text)
    if not found or (text[4] == "-") != (text[-3] == "-"):
        raise ValueError(f"'{name}' must be a date written as YYYYMMDD or YYYY-MM-DD, for example 20261127.")
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        raise ValueError(f"'{name}' is not a real calendar date: {text}.") from None


def span(first: date, last: date) -> list[int]:
    """Every day from ``first`` to ``last`` inclusive, oldest first."""
    return [to_int(first + timedelta(days=n)) for n in range((last - first).days + 1)]
