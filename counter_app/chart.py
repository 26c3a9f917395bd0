"""The dashboard's SVG line charts as plain geometry, for the template to draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from . import days

MAX_SERIES = 7  # the colours of static/dashboard.css
NAMES = {"day": "Day", "week": "Week (from Monday)", "month": "Month"}


@dataclass(frozen=True)
class Frame:
    """A chart's viewBox and margins in SVG user units, its ticks, and when its points get dots.

    Past ``dots`` periods only the partial ones get a dot: 366 dots a line are unreadable, and heavy.
    """

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: int
    y_ticks: int
    dots: int
    titles: bool = True


WIDE = Frame("wide", 960, 400, 64, 24, 16, 56, 8, 6, dots=92)
NARROW = Frame("narrow", 360, 300, 62, 14, 12, 52, 4, 5, dots=31)
SMALL = Frame("small", 320, 130, 44, 12, 10, 24, 2, 3, dots=31, titles=False)  # one event's own chart


def nice_ticks(peak: int, most: int) -> list[int]:
    """Round tick values from 0 covering ``peak``, at most ``most`` of them."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if (peak + step * factor - 1) // (step * factor) + 1 <= most:
                top = -(-peak // (step * factor)) * step * factor
                return list(range(0, max(top, step * factor) + 1, step * factor))
        step *= 10


def compact(values: list[int]) -> list[str]:
    """Axis labels that fit the margin, in one unit: ``1,500``; ``5k``, ``10k``, ``15k``; ``2.5M``."""
    top = max(values, default=0)
    for size, suffix, divisor in ((1_000_000, "M", 1_000_000), (10_000, "k", 1000)):
        if top >= size:
            return [f"{value / divisor:,g}{suffix}" if value else "0" for value in values]
    return [f"{value:,}" for value in values]


def ranked_events(summary_totals: dict[str, int]) -> list[str]:
    """Events by total, largest first."""
    return sorted(summary_totals, key=lambda event: (-summary_totals[event], event))


def day_label(day: date, group: str, *, year: bool) -> str:
    """``27 Nov`` (a day or the Monday of a week) or ``Nov`` (a month), with the year when asked."""
    text = day.strftime("%b") if group == "month" else f"{day.day} {day:%b}"
    return f"{text} {day.year}" if year else text


def period_title(period: dict[str, Any], group: str) -> str:
    """How a point's tooltip names its period: ``27 Nov 2026``, ``week of 23 Nov 2026``, ``Nov 2026``."""
    label = day_label(days.from_int(period["period"]), group, year=True)
    label = f"week of {label}" if group == "week" else label
    return f"{label} (partial)" if period["partial"] else label


def draw(periods: list[dict[str, Any]], events: list[tuple[str, int]], group: str, frame: Frame) -> dict[str, Any]:
    """Ticks, axes and a line per event through its count in each period, in ``frame``'s units.

    :param periods: :func:`periods.regroup`'s periods, oldest first.
    :param events: ``(event, colour number)`` pairs, in drawing order.
    """
    peak = max((p["counts"].get(e, 0) for p in periods for e, _ in events), default=0)
    y_values = nice_ticks(peak, frame.y_ticks)
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom
    bottom = frame.top + plot_h
    xs = [round(frame.left + (plot_w / 2 if len(periods) == 1 else plot_w * i / (len(periods) - 1)), 1)
          for i in range(len(periods))]
    partial = [p["partial"] for p in periods]
    titles = [period_title(p, group) for p in periods]

    def y(value: int) -> float:
        return round(bottom - plot_h * value / y_values[-1], 1)

    series = []
    for event, colour in events:
        counts = [p["counts"].get(event, 0) for p in periods]
        points = [(x, y(n)) for x, n in zip(xs, counts)]
        dots = [
            {"x": x, "y": y_, "day": p["period"], "count": n, "partial": part, "title": f"{event}, {title}: {n:,}"}
            for (x, y_), p, n, part, title in zip(points, periods, counts, partial, titles)
            if part or len(periods) <= frame.dots
        ]
        series.append({"event": event, "colour": colour, "lines": _lines(points, partial), "dots": dots})
    years = {days.from_int(p["period"]).year for p in periods} | {days.from_int(periods[-1]["to"]).year}
    # Labels at even steps back from the newest period, which is always labelled.
    step = max(1, -(-(len(periods) - 1) // max(frame.x_ticks - 1, 1)))
    picks = sorted(range(len(periods) - 1, -1, -step))
    return {
        "frame": frame,
        "series": series,
        "left": frame.left,
        "right": frame.width - frame.right,
        "top": frame.top,
        "bottom": bottom,
        "middle_x": frame.left + plot_w / 2,
        "middle_y": frame.top + plot_h / 2,
        "radius": 3 if len(periods) <= 62 else 2,
        "x_title": NAMES[group],
        "y_title": f"Count per {group}",
        "y_ticks": [{"label": label, "y": y(v)} for v, label in zip(y_values, compact(y_values))],
        "x_ticks": [
            {"x": xs[i], "anchor": _anchor(i, len(periods)),
             "label": day_label(days.from_int(periods[i]["period"]), group, year=len(years) > 1)}
            for i in picks
        ],
    }


def _lines(points: list[tuple[float, float]], partial: list[bool]) -> list[dict[str, Any]]:
    """The line through ``points`` in runs: solid between whole periods, dashed into and out of partial ones."""
    if len(points) == 1:
        return [{"points": f"{points[0][0]:g},{points[0][1]:g}", "dashed": partial[0]}]
    runs: list[dict[str, Any]] = []
    for i in range(len(points) - 1):
        dashed = partial[i] or partial[i + 1]
        if not runs or runs[-1]["dashed"] != dashed:
            runs.append({"points": [points[i]], "dashed": dashed})
        runs[-1]["points"].append(points[i + 1])
    return [{"points": " ".join(f"{x:g},{y:g}" for x, y in run["points"]), "dashed": run["dashed"]} for run in runs]


def _anchor(index: int, count: int) -> str:
    # Labels at the ends of the axis grow inwards so that they stay inside the viewBox.
    if count == 1:
        return "middle"
    return "start" if index == 0 else "end" if index == count - 1 else "middle"
