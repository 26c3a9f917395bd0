"""The dashboard's SVG line chart as plain geometry, for the template to draw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import days

MAX_SERIES = 7  # the colours of static/dashboard.css; the totals table lists every event


@dataclass(frozen=True)
class Frame:
    """A chart's viewBox and margins, in SVG user units."""

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: int
    y_ticks: int


WIDE = Frame("wide", 960, 400, 64, 24, 16, 56, 8, 6)
NARROW = Frame("narrow", 360, 300, 52, 14, 12, 52, 3, 5)


def nice_ticks(peak: int, most: int) -> list[int]:
    """Round tick values from 0 covering ``peak``, at most ``most`` of them."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if (peak + step * factor - 1) // (step * factor) + 1 <= most:
                top = -(-peak // (step * factor)) * step * factor
                return list(range(0, max(top, step * factor) + 1, step * factor))
        step *= 10


def compact(value: int) -> str:
    """``1500`` stays; ``25000`` -> ``25k``; ``3000000`` -> ``3M``: labels that fit the margin."""
    for size, suffix in ((1_000_000, "M"), (10_000, "k")):
        if value >= size:
            return f"{value / (size if suffix == 'M' else 1000):g}{suffix}"
    return str(value)


def ranked_events(summary_totals: dict[str, int]) -> list[str]:
    """Events by total, largest first, at most ``MAX_SERIES``."""
    return sorted(summary_totals, key=lambda event: (-summary_totals[event], event))[:MAX_SERIES]


def draw(summary: dict[str, Any], frame: Frame) -> dict[str, Any]:
    """Ticks, axis positions and one polyline with points per event, in ``frame``'s units."""
    day_list = [row["day"] for row in summary["days"]]
    events = ranked_events(summary["totals"])
    peak = max((row["counts"].get(e, 0) for row in summary["days"] for e in events), default=0)
    y_values = nice_ticks(peak, frame.y_ticks)
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom
    bottom = frame.top + plot_h

    def x(index: int) -> float:
        return frame.left + (plot_w / 2 if len(day_list) == 1 else plot_w * index / (len(day_list) - 1))

    def y(value: int) -> float:
        return bottom - plot_h * value / y_values[-1]

    series = []
    for number, event in enumerate(events):
        points = [
            {"x": round(x(i), 1), "y": round(y(row["counts"].get(event, 0)), 1), "day": row["day"],
             "count": row["counts"].get(event, 0), "label": days.from_int(row["day"]).strftime("%d %b %Y")}
            for i, row in enumerate(summary["days"])
        ]
        series.append({
            "event": event,
            "colour": number,
            "points": points,
            "path": " ".join(f"{p['x']},{p['y']}" for p in points),
        })
    picks = sorted({round(k * (len(day_list) - 1) / max(frame.x_ticks - 1, 1)) for k in range(frame.x_ticks)})
    return {
        "frame": frame,
        "series": series,
        "left": frame.left,
        "right": frame.width - frame.right,
        "top": frame.top,
        "bottom": bottom,
        "middle_x": frame.left + plot_w / 2,
        "middle_y": frame.top + plot_h / 2,
        "radius": 3 if len(day_list) <= 62 else 1.5,
        "y_ticks": [{"label": compact(v), "y": round(y(v), 1)} for v in y_values],
        "x_ticks": [
            {"x": round(x(i), 1), "label": days.from_int(day_list[i]).strftime("%d %b"), "anchor": _anchor(i, picks)}
            for i in picks
            if day_list
        ],
    }


def _anchor(index: int, picks: list[int]) -> str:
    # The outermost labels grow inwards so that they stay inside the viewBox.
    if len(picks) > 1 and index == picks[0]:
        return "start"
    return "end" if len(picks) > 1 and index == picks[-1] else "middle"
