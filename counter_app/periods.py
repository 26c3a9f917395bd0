"""Days grouped into ISO weeks or calendar months, with the periods a range cuts, or that are not over, marked."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any, TextIO

from werkzeug.exceptions import BadRequest

from . import days, params, totals

GROUPS = ("day", "week", "month")


def requested(args: params.Values, default: str = "day") -> str:
    """The query's ``group``: ``day``, ``week`` or ``month``; ``default`` when absent or empty.

    :raises BadRequest: for any other value.
    """
    value = params.single(args, "group")
    if value is params.MISSING or value == "":
        return default
    if value not in GROUPS:
        raise BadRequest("'group' must be day, week or month.")
    return value


def start_of(day: date, group: str) -> date:
    """The first day of ``day``'s period: itself, the Monday of its ISO week, or the 1st of its month."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if group == "month" else day


def end_of(day: date, group: str) -> date:
    """The last day of ``day``'s period: itself, the Sunday of its ISO week, or the last of its month."""
    if group == "week":
        start = start_of(day, group)
        return start + timedelta(days=min(6, (date.max - start).days))  # the calendar ends on a Friday
    if group == "month":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day


def regroup(summary: dict[str, Any], group: str, today: date) -> list[dict[str, Any]]:
    """The summary's days added up per period, oldest first.

    Each period is ``{"period", "from", "to", "partial", "counts"}``: ``period`` is its first day
    (a Monday, or the 1st), ``from`` and ``to`` the days of it inside the range, and ``partial`` is
    true when the range leaves out some of its days or when it has not ended by ``today``.
    """
    found: list[dict[str, Any]] = []
    for row in summary["days"]:
        day = days.from_int(row["day"])
        start = days.to_int(start_of(day, group))
        if not found or found[-1]["period"] != start:
            end = end_of(day, group)
            found.append({"period": start, "from": row["day"], "to": row["day"], "counts": {},
                          "partial": start != row["day"] or days.to_int(end) > summary["to"] or end >= today})
        period = found[-1]
        period["to"] = row["day"]
        period.setdefault("days", []).append(row)
    for period in found:
        within = period.pop("days")
        period["counts"] = totals.add_up(row["counts"] for row in within)
        if totals.VISITORS in summary:  # the sum of the days' visitors: not the period's unique people
            period[totals.VISITORS] = totals.add_up(row[totals.VISITORS] for row in within)
    return found


def grouped(summary: dict[str, Any], group: str, today: date) -> dict[str, Any]:
    """``/summary``'s reply for weeks or months: ``periods`` in place of ``days``."""
    result = {"from": summary["from"], "to": summary["to"], "group": group,
              "periods": regroup(summary, group, today), "totals": summary["totals"]}
    if totals.VISITORS in summary:
        result[totals.VISITORS] = summary[totals.VISITORS]
    return result


def write_csv(out: TextIO, group: str, periods: list[dict[str, Any]]) -> None:
    """Write ``<group>,from,to,partial,event,count[,visitors]`` CSV: one row per period and event."""
    seen = totals.visitors_on()
    rows = ((period["period"], period["from"], period["to"], "true" if period["partial"] else "false", event, count,
             *((period.get(totals.VISITORS, {}).get(event, 0),) if seen else ()))
            for period in periods for event, count in period["counts"].items())
    totals.write_csv(out, rows, header=(group, "from", "to", "partial", "event", "count",
                                        *((totals.VISITORS,) if seen else ())))
