"""The dashboard's ranges: presets, the range before and after, the range compared with, the default grouping."""

from datetime import date

import pytest

from counter_app.ranges import Range, add_months, default_group, neighbour, presets, previous, whole_months

TODAY = date(2026, 11, 27)


def r(first: str, last: str) -> Range:
    return Range(date.fromisoformat(first), date.fromisoformat(last))


def test_add_months_crosses_years():
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 11, 27), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 3, 15), -14) == date(2025, 1, 1)


def test_presets_on_the_first_of_january():
    found = dict(presets(date(2027, 1, 1)))
    assert found["Today"] == r("2027-01-01", "2027-01-01")
    assert found["7 days"].length == 7 and found["90 days"].length == 90
    assert found["12 months"] == r("2026-02-01", "2027-01-01")
    assert found["This month"] == r("2027-01-01", "2027-01-01")
    assert found["Last month"] == r("2026-12-01", "2026-12-31")
    assert max(span.length for span in found.values()) <= 366


@pytest.mark.parametrize("span,months", [
    (r("2026-10-01", "2026-10-31"), 1), (r("2026-11-01", "2026-11-27"), 1), (r("2025-12-01", "2026-11-27"), 12),
    (r("2026-02-01", "2026-03-31"), 2), (r("2026-10-02", "2026-10-31"), 0), (r("2026-10-01", "2026-10-30"), 0),
])
def test_whole_months(span, months):
    assert whole_months(span, TODAY) == months


@pytest.mark.parametrize("span,before,after", [
    (r("2026-10-29", "2026-11-27"), r("2026-09-29", "2026-10-28"), None),
    (r("2026-11-10", "2026-11-19"), r("2026-10-31", "2026-11-09"), r("2026-11-18", "2026-11-27")),
    (r("2026-11-01", "2026-11-10"), r("2026-10-22", "2026-10-31"), r("2026-11-11", "2026-11-20")),
    (r("2026-10-01", "2026-10-31"), r("2026-09-01", "2026-09-30"), r("2026-11-01", "2026-11-27")),
    (r("2026-02-01", "2026-02-28"), r("2026-01-01", "2026-01-31"), r("2026-03-01", "2026-03-31")),
    (r("2025-12-01", "2026-11-27"), r("2024-12-01", "2025-11-30"), None),
    (r("0001-01-01", "0001-01-30"), None, r("0001-01-31", "0001-03-01")),
])
def test_neighbours(span, before, after):
    assert neighbour(span, -1, TODAY) == before
    assert neighbour(span, 1, TODAY) == after


def test_no_neighbour_past_the_calendar():
    assert neighbour(r("0001-01-01", "0001-01-31"), -1, date(9999, 12, 31)) is None
    assert neighbour(r("9999-12-01", "9999-12-30"), 1, date(9999, 12, 31)) is None
    assert previous(r("0001-01-01", "0001-01-05"), TODAY) is None


@pytest.mark.parametrize("span,compared", [
    (r("2026-10-29", "2026-11-27"), r("2026-09-29", "2026-10-28")),
    (r("2026-11-01", "2026-11-27"), r("2026-10-01", "2026-10-27")),  # this month: the same days of the last
    (r("2026-03-01", "2026-03-31"), r("2026-02-01", "2026-02-28")),  # a whole month: the whole month before
    (r("2026-03-01", "2026-03-30"), r("2026-01-30", "2026-02-28")),  # not whole: the same length before
    (r("2025-12-01", "2026-11-27"), r("2024-12-01", "2025-11-27")),
])
def test_previous_range_to_compare_with(span, compared):
    assert previous(span, TODAY) == compared


def test_previous_clamps_to_a_shorter_month():
    # This month, on the 31st, against a 30-day month.
    assert previous(r("2026-12-01", "2026-12-31"), date(2026, 12, 31)) == r("2026-11-01", "2026-11-30")
    assert previous(r("2026-03-01", "2026-03-30"), date(2026, 3, 30)) == r("2026-02-01", "2026-02-28")


@pytest.mark.parametrize("length,group", [(1, "day"), (92, "day"), (93, "week"), (182, "week"), (183, "month"),
                                          (366, "month")])
def test_default_group(length, group):
    first = date(2026, 1, 1)
    assert default_group(Range(first, date.fromordinal(first.toordinal() + length - 1))) == group
