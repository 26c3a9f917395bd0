"""The dashboard: server-rendered SVG charts and totals of a range, compared with the range before."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from . import alerts, auth, chart, days, periods, ranges, totals

bp = Blueprint("dashboard", __name__)

FIELDS = ("from", "to", "e", "group")  # the range form's fields, the only query the token form carries back
MAX_MULTIPLES = 12  # events drawn on their own scale
# The totals table's rows, the rest added up in one "others" row: a day of a million imported names
# made the page time out. /summary keeps every name.
MAX_ROWS = 100
GROUP_NAMES = {"day": "Daily", "week": "Weekly", "month": "Monthly"}


@bp.app_template_filter("thousands")
def thousands(value: int) -> str:
    """``12345`` -> ``12,345``."""
    return f"{value:,}"


@bp.get("/dashboard")
def dashboard() -> Response:
    """The charts and totals of ``from``..``to`` (default the last 30 days), or the token form."""
    if not auth.read_allowed():
        return _token_form(wrong=False)
    today = days.today()
    form = {name: request.args.get(name, "") for name in FIELDS}
    keep = {"e": form["e"]} if form["e"].strip() else {}
    try:
        first, last, wanted = totals.requested_range(request.args)
        chosen = periods.requested(request.args, default="")
    except BadRequest as exc:
        form |= {name: _iso(form[name]) for name in ("from", "to")}
        page = render_template("dashboard.html", form=form, error=exc.description, presets=_presets(today, keep))
        return _private(page, 400)
    span = ranges.Range(first, last)
    automatic = ranges.default_group(span)
    group = chosen or automatic
    summary = totals.summarize(first, last, wanted)
    before = _allowed(ranges.previous(span, today))
    earlier = totals.summarize(*before, wanted) if before else None
    table, others = _table(summary["totals"], earlier and earlier["totals"])
    shown = periods.regroup(_only(summary, {row["event"] for row in table}), group, today)
    ranked = chart.ranked_events({row["event"]: row["total"] for row in table if row["event"] in summary["totals"]})
    coloured = [(event, n) for n, event in enumerate(ranked[: chart.MAX_SERIES])]
    # Imported days and days counted with visitors off have none: their columns would be zeros.
    visitors = totals.VISITORS in summary and any(
        any(found[totals.VISITORS].values()) for found in (summary, earlier) if found)
    if visitors:  # side by side with the views, each compared with the range before
        seen, seen_before = summary[totals.VISITORS], earlier and earlier[totals.VISITORS]
        table = [{**row, "visitors": _cell(row["event"], seen, seen_before)} for row in table]
        others["visitors"] = {"total": sum(seen.values()) - sum(row["visitors"]["total"] for row in table),
                              "before": sum((seen_before or {}).values())
                              - sum(row["visitors"]["before"] or 0 for row in table)}
    focus = {"group": chosen} if chosen else {}
    page = render_template(
        "dashboard.html",
        form={**form, "from": first.isoformat(), "to": last.isoformat()},
        group=group,
        automatic=automatic,
        title=f"{GROUP_NAMES[group]} counts, {_label(span)}",
        compared=_label(before) if before else None,
        summary=summary,
        visitors=visitors,
        charts=[chart.draw(shown, coloured, group, frame) for frame in (chart.WIDE, chart.NARROW)],
        multiples=_multiples(shown, group, table[: len(ranked)], dict(coloured),
                             lambda event: _url(span, e=event, **focus)),
        hidden=len(summary["totals"]) > chart.MAX_SERIES,
        table=[{**row, "url": _url(span, e=row["event"], **focus)} for row in table],
        small_base=SMALL_BASE,
        others=others,
        focused=wanted is not None and len(wanted) == 1,
        everything_url=_url(span, **focus),
        presets=_presets(today, keep, span),
        arrows={step: _arrow(ranges.neighbour(span, step, today), {**keep, **focus}) for step in (-1, 1)},
        json_url=url_for("counting.summary", **_query(span), **keep, **_grouped(group), format="json"),
        csv_url=url_for("counting.summary", **_query(span), **keep, **_grouped(group), format="csv"),
        rules=alerts.last_fired(),
    )
    return _private(page, 200)


@bp.post("/dashboard")
def sign_in() -> Response:
    """Check the posted token; if right, set the read cookie and go back to the dashboard."""
    if not auth.token_matches(request.form.get("token", "")):
        return _token_form(wrong=True)
    response = redirect(_same_range(), 303)
    auth.remember(response)
    return response


def _same_range() -> str:
    """The dashboard's URL with this request's range, under the app's root (``/dev`` behind an API Gateway stage)."""
    # Only the form's fields: any other name could be one of url_for's own (endpoint, _method, _scheme).
    return url_for("dashboard.dashboard", **{name: request.args[name] for name in FIELDS if name in request.args})


def _allowed(span: ranges.Range | None) -> ranges.Range | None:
    """``span`` if a request may ask for it (no longer than ``from`` and ``to`` may span), else ``None``."""
    return span if span and span.length <= totals.MAX_RANGE_DAYS else None


def _iso(text: str) -> str:
    """A typed date as a date input's value, ``2026-11-01``; left as typed if it is not a date."""
    try:
        return days.parse(text).isoformat()
    except ValueError:
        return text


def _query(span: ranges.Range) -> dict[str, str]:
    # Eight digits, as the API reads them: a year before 1000 would lose its leading zero as an int.
    return {"from": f"{days.to_int(span.first):08d}", "to": f"{days.to_int(span.last):08d}"}


def _grouped(group: str) -> dict[str, str]:
    return {} if group == "day" else {"group": group}


def _url(span: ranges.Range, **extra: str) -> str:
    return url_for("dashboard.dashboard", **_query(span), **extra)


def _label(span: ranges.Range) -> str:
    """``27 Nov 2026`` for a day, ``29 Oct – 27 Nov 2026`` for a range, with both years when they differ."""
    last = chart.day_label(span.last, "day", year=True)
    if span.first == span.last:
        return last
    return f"{chart.day_label(span.first, 'day', year=span.first.year != span.last.year)} – {last}"


def _presets(today: date, keep: dict[str, str], span: ranges.Range | None = None) -> list[dict[str, Any]]:
    return [{"label": label, "url": _url(preset, **keep), "current": preset == span}
            for label, preset in ranges.presets(today)]


def _arrow(span: ranges.Range | None, keep: dict[str, str]) -> dict[str, str] | None:
    span = _allowed(span)
    return {"url": _url(span, **keep), "label": _label(span)} if span else None


def _multiples(shown: list[dict[str, Any]], group: str, rows: list[dict[str, Any]], colours: dict[str, int],
               url: Callable[[str], str]) -> list[dict[str, Any]]:
    """A small chart on its own scale for each of the largest events, when there is more than one."""
    if len(rows) < 2:
        return []
    return [{**row, "url": url(row["event"]),
             "chart": chart.draw(shown, [(row["event"], colours.get(row["event"], "x"))], group, chart.SMALL)}
            for row in rows[:MAX_MULTIPLES]]


def _table(current: dict[str, int], earlier: dict[str, int] | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A row per event of the range or of the range before, largest first, at most MAX_ROWS; and the rest's sums."""
    before = earlier or {}
    names = heapq.nsmallest(MAX_ROWS, current.keys() | before.keys(),
                            key=lambda e: (-current.get(e, 0), -before.get(e, 0), e))
    rows = [{"event": event, **_cell(event, current, earlier)} for event in names]
    others = {"events": len(current.keys() | before.keys()) - len(rows),
              "total": sum(current.values()) - sum(row["total"] for row in rows),
              "before": sum(before.values()) - sum(row["before"] or 0 for row in rows)}
    return rows, others


def _cell(event: str, current: dict[str, int], earlier: dict[str, int] | None) -> dict[str, Any]:
    """``event``'s figure in ``current``, in ``earlier`` (``None`` without a range before) and the change."""
    before = None if earlier is None else earlier.get(event, 0)
    return {"total": current.get(event, 0), "before": before, "change": change(current.get(event, 0), before)}


def _only(summary: dict[str, Any], events: set[str]) -> dict[str, Any]:
    """``summary`` with each day's counts kept to ``events``: the charts draw no more than the table lists."""
    return {**summary, "days": [{**row, "counts": {e: n for e, n in row["counts"].items() if e in events}}
                                for row in summary["days"]]}


SMALL_BASE = 20  # fewer in the range before, and a change is shown as a count, not a percentage


def change(now: int, before: int | None) -> dict[str, str]:
    """How ``now`` compares with ``before``: a kind for the colour, text with a sign, and words for screen readers."""
    if before is None:
        return {"kind": "none", "text": "", "words": "no earlier range to compare with"}
    if before == 0:
        if now == 0:
            return {"kind": "same", "text": "–", "words": "none in either range"}
        return {"kind": "new", "text": "new", "words": "new: none in the range before"}
    if before < SMALL_BASE:  # 2 then 54 is "+2,600%": the counts say more, marked as a small base
        difference = now - before
        if difference == 0:
            return {"kind": "same", "text": "±0", "words": f"the same {before} as the range before", "small": "yes"}
        up = difference > 0
        return {"kind": "up" if up else "down", "text": f"{'▲ +' if up else '▼ −'}{abs(difference):,}",
                "words": f"{'up' if up else 'down'} {abs(difference):,} on only {before} in the range before",
                "small": "yes"}
    percent = (now - before) * 100 / before
    shown = f"{abs(percent):,.1f}".removesuffix(".0") if abs(percent) < 10 else f"{abs(percent):,.0f}"
    if shown == "0":
        return {"kind": "same", "text": "±0%", "words": "about the same as the range before"}
    up = percent > 0
    return {"kind": "up" if up else "down", "text": f"{'▲ +' if up else '▼ −'}{shown}%",
            "words": f"{'up' if up else 'down'} {shown}% on the range before"}


def _token_form(*, wrong: bool) -> Response:
    response = _private(render_template("token.html", action=_same_range(), wrong=wrong), 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="counter"'
    return response


def _private(html: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
