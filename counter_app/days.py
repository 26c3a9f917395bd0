"""Days as the store keys them: ``int`` yyyyMMdd, in the configured time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

_DIGITS = re.compile(r"[0-9]{8}")  # [0-9], not \d: \d also matches full-width digits


def init_app(app: Flask) -> None:
    """Resolve ``TIMEZONE`` once, failing at start-up if it is unknown."""
    name = app.config["TIMEZONE"]
    try:
        app.extensions["counter.timezone"] = ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name longer than a file name may be
        raise ValueError(f"COUNTER_TIMEZONE={name!r} is not a known IANA time zone") from None


def now() -> datetime:
    """The current time, aware, from the app's clock."""
    clock = current_app.config["CLOCK"]
    return clock() if clock else datetime.now(timezone.utc)


def today() -> date:
    """Today's date in the app's time zone."""
    return now().astimezone(current_app.extensions["counter.timezone"]).date()


def to_int(day: date) -> int:
    """``date(2026, 11, 27)`` -> ``20261127``."""
    return day.year * 10000 + day.month * 100 + day.day


def from_int(day: int) -> date:
    """``20261127`` -> ``date(2026, 11, 27)``."""
    return date(day // 10000, day // 100 % 100, day % 100)


def parse(text: str, name: str = "c") -> date:
    """Parse exactly eight ASCII digits forming a real calendar date.

    :raises ValueError: with a sentence naming the parameter.
    """
    if not _DIGITS.fullmatch(text):
        raise ValueError(f"'{name}' must be a date written as YYYYMMDD, for example 20261127.")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"'{name}' is not a real calendar date: {text}.") from None


def span(first: date, last: date) -> list[int]:
    """Every day from ``first`` to ``last`` inclusive, oldest first."""
    return [to_int(first + timedelta(days=n)) for n in range((last - first).days + 1)]
