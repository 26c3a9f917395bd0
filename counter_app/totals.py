"""Daily counts over a range: the one computation behind /summary, the dashboard and export."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any, TextIO

from flask import current_app
from werkzeug.exceptions import BadRequest

from . import days, params
from .store import get_store

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
CSV_HEADER = ("day", "event", "count")
VISITORS = "visitors"  # the column and key added when COUNTER_VISITORS is on
Row = tuple[int, str, int] | tuple[int, str, int, int]


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


def summarize(first: date, last: date, wanted: set[str] | None = None, *, visitors: bool = True) -> dict[str, Any]:
    """Every day of the range with its counts (``{}`` when none), and the totals per event.

    With visitors on (and ``visitors``), each day also has its ``visitors`` per event, and ``visitors`` the sum of
    the days'; without, they are not read.
    """
    span = days.span(first, last)
    store = get_store()
    stored = store.get(span)
    rows = [{"day": day, "counts": _keep(stored.get(day, {}), wanted)} for day in span]
    result = {"from": span[0], "to": span[-1], "days": rows, "totals": add_up(row["counts"] for row in rows)}
    if visitors and visitors_on():
        seen = store.visitors(span)
        for row in rows:
            row[VISITORS] = {event: seen.get(row["day"], {}).get(event, 0) for event in row["counts"]}
        result[VISITORS] = add_up(row[VISITORS] for row in rows)
    return result


def visitors_on() -> bool:
    """Whether the app counts visitors (``COUNTER_VISITORS``), so that reads show them."""
    return bool(current_app.config["VISITORS"])


def add_up(figures: Iterable[dict[str, int]]) -> dict[str, int]:
    """The sum per event of ``figures``, sorted by event."""
    found: dict[str, int] = {}
    for each in figures:
        for event, number in each.items():
            found[event] = found.get(event, 0) + number
    return dict(sorted(found.items()))


def _keep(counts: dict[str, int], wanted: set[str] | None) -> dict[str, int]:
    return {e: n for e, n in sorted(counts.items()) if wanted is None or e in wanted}


def flatten(counts: Iterable[tuple[int, dict[str, int]]]) -> Iterator[Row]:
    """``(day, event, count)`` rows of ``(day, counts)`` pairs: days in the order given, events sorted."""
    for day, events in counts:
        for event, count in sorted(events.items()):
            yield day, event, count


def with_visitors(rows: Iterable[Row], days_at_once: int = 100) -> Iterator[Row]:
    """``rows`` (grouped by day) with each one's visitors, read ``days_at_once`` days at a time."""
    by_day = itertools.groupby(rows, key=lambda row: row[0])
    while chunk := [(day, list(group)) for day, group in itertools.islice(by_day, days_at_once)]:
        seen = get_store().visitors([day for day, _ in chunk])
        for day, group in chunk:
            yield from ((day, event, count, seen.get(day, {}).get(event, 0)) for _day, event, count, *_more in group)


def summary_rows(summary: dict[str, Any]) -> Iterator[Row]:
    """The rows of a :func:`summarize` result, with the visitors of each when it has them."""
    if VISITORS not in summary:
        return flatten((row["day"], row["counts"]) for row in summary["days"])
    return ((day, event, count, row[VISITORS][event]) for row in summary["days"]
            for day, event, count in flatten([(row["day"], row["counts"])]))


def csv_header(summary: dict[str, Any]) -> tuple[str, ...]:
    """``day,event,count``, and ``visitors`` when the summary has them."""
    return (*CSV_HEADER, VISITORS) if VISITORS in summary else CSV_HEADER


def write_csv(out: TextIO, rows: Iterable[tuple], header: tuple[str, ...] = CSV_HEADER) -> int:
    """Write CSV with a header line (``day,event,count`` unless given); the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    written = 0
    for written, row in enumerate(rows, 1):
        writer.writerow(row)
    return written
