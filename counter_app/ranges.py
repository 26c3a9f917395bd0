"""The dashboard's ranges: presets, the range before and after, the range to compare with, and the grouping."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from .periods import end_of

DAYS_UP_TO = 92  # about 3 months drawn as days
WEEKS_UP_TO = 182  # about 6 months as weeks; longer ranges as months


class Range(NamedTuple):
    """Days ``first`` to ``last``, inclusive."""

    first: date
    last: date

    @property
    def length(self) -> int:
        """How many days the range holds."""
        return (self.last - self.first).days + 1


def add_months(day: date, months: int) -> date:
    """The 1st of the month ``months`` after ``day``'s month (before, when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def presets(today: date) -> list[tuple[str, Range]]:
    """The one-click ranges, each with its label, ending today or in the last month."""
    this_month = today.replace(day=1)
    last_month = add_months(today, -1)
    return [
        ("Today", Range(today, today)),
        ("7 days", Range(today - timedelta(days=6), today)),
        ("30 days", Range(today - timedelta(days=29), today)),
        ("90 days", Range(today - timedelta(days=89), today)),
        ("12 months", Range(add_months(today, -11), today)),
        ("This month", Range(this_month, today)),
        ("Last month", Range(last_month, end_of(last_month, "month"))),
    ]


def whole_months(span: Range, today: date) -> int:
    """How many calendar months ``span`` covers if it runs from a 1st to a month's end (or to today), else 0."""
    if span.first.day != 1 or span.last not in (end_of(span.last, "month"), today):
        return 0
    return (span.last.year - span.first.year) * 12 + span.last.month - span.first.month + 1


def neighbour(span: Range, step: int, today: date) -> Range | None:
    """The range before (``step=-1``) or after (``step=1``), of the same length or the same number of months.

    A range after never passes today: it ends today instead. ``None`` when there is nothing after
    today, or the calendar ends.
    """
    if step > 0 and span.last >= today:
        return None
    try:
        months = whole_months(span, today)
        if months:
            first = add_months(span.first, step * months)
            moved = Range(first, end_of(add_months(first, months - 1), "month"))
            return moved._replace(last=min(moved.last, today)) if step > 0 else moved
        moved = Range(span.first + step * timedelta(days=span.length), span.last + step * timedelta(days=span.length))
        if step > 0 and moved.last > today:
            return Range(today - timedelta(days=span.length - 1), today)
        return moved
    except (OverflowError, ValueError):  # before the year 1 or after 9999
        return None


def previous(span: Range, today: date) -> Range | None:
    """The range to compare with: the same days of the months before, or the same length just before."""
    try:
        months = whole_months(span, today)
        if not months:
            return Range(span.first - timedelta(days=span.length), span.first - timedelta(days=1))
        month = add_months(span.last, -months)
        month_end = end_of(month, "month")
        same_day = month.replace(day=min(span.last.day, month_end.day))
        last = month_end if span.last == end_of(span.last, "month") else same_day
        return Range(add_months(span.first, -months), last)
    except (OverflowError, ValueError):
        return None


def default_group(span: Range) -> str:
    """Days up to about three months, then weeks up to about six, then months."""
    if span.length <= DAYS_UP_TO:
        return "day"
    return "week" if span.length <= WEEKS_UP_TO else "month"
