"""Daily counts over a range: the one computation behind /summary, the dashboard and export."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any, TextIO

from werkzeug.exceptions import BadRequest

from . import days, params
from .store import get_store

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
CSV_HEADER = ("day", "event", "count")
Row = tuple[int, str, int]


@params.within_calendar
def requested_range(args: params.Values) -> tuple[date, date, set[str] | None]:
    """``from``, ``to`` and ``e`` of a query: default (or blank) the 30 days ending today, every event.

    :raises BadRequest: with a sentence, for a bad or too long range.
    """
    # A blank is the default, as a cleared date input sends it ("from=").
    last, first = (params.MISSING if value == "" else value for value in (params.single(args, "to"),
                                                                            params.single(args, "from")))
    last = days.today() if last is params.MISSING else params.day(last, "to")
    first = last - timedelta(days=DEFAULT_RANGE_DAYS - 1) if first is params.MISSING else params.day(first, "from")
    if first > last:
        raise BadRequest("'from' must not be after 'to'.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"The range may span at most {MAX_RANGE_DAYS} days.")
    return first, last, params.event_filter(params.single(args, "e"))


def summarize(first: date, last: date, wanted: set[str] | None = None) -> dict[str, Any]:
    """Every day of the range with its counts (``{}`` when none), and the totals per event."""
    span = days.span(first, last)
    stored = get_store().get(span)
    rows = [{"day": day, "counts": _keep(stored.get(day, {}), wanted)} for day in span]
    totals: dict[str, int] = {}
    for row in rows:
        for event, count in row["counts"].items():
            totals[event] = totals.get(event, 0) + count
    return {"from": span[0], "to": span[-1], "days": rows, "totals": dict(sorted(totals.items()))}


def _keep(counts: dict[str, int], wanted: set[str] | None) -> dict[str, int]:
    return {e: n for e, n in sorted(counts.items()) if wanted is None or e in wanted}


def flatten(counts: Iterable[tuple[int, dict[str, int]]]) -> Iterator[Row]:
    """``(day, event, count)`` rows of ``(day, counts)`` pairs: days in the order given, events sorted."""
    for day, events in counts:
        for event, count in sorted(events.items()):
            yield day, event, count


def summary_rows(summary: dict[str, Any]) -> Iterator[Row]:
    """The rows of a :func:`summarize` result."""
    return flatten((row["day"], row["counts"]) for row in summary["days"])


def write_csv(out: TextIO, rows: Iterable[tuple], header: tuple[str, ...] = CSV_HEADER) -> int:
    """Write CSV with a header line (``day,event,count`` unless given); the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    written = 0
    for written, row in enumerate(rows, 1):
        writer.writerow(row)
    return written
