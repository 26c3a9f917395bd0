"""The dashboard: a server-rendered page with an SVG chart and the totals of a range."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from . import auth, chart, days, totals

bp = Blueprint("dashboard", __name__)

FIELDS = ("from", "to", "e")  # the range form's fields, the only query the token form carries back


@bp.get("/dashboard")
def dashboard() -> Response:
    """The chart and totals of ``from``..``to`` (default the last 30 days), or the token form."""
    if not auth.read_allowed():
        return _token_form(wrong=False)
    form = {name: request.args.get(name, "") for name in FIELDS}
    try:
        first, last, wanted = totals.requested_range(request.args)
    except BadRequest as exc:
        return _private(render_template("dashboard.html", form=form, error=exc.description), 400)
    summary = totals.summarize(first, last, wanted)
    query = {"from": summary["from"], "to": summary["to"], **({"e": form["e"]} if form["e"].strip() else {})}
    charts = [chart.draw(summary, frame) for frame in (chart.WIDE, chart.NARROW)]
    page = render_template(
        "dashboard.html",
        form={**form, "from": summary["from"], "to": summary["to"]},
        summary=summary,
        charts=charts,
        hidden=len(summary["totals"]) > len(charts[0]["series"]),
        table=sorted(summary["totals"].items(), key=lambda item: (-item[1], item[0])),
        first_label=days.from_int(summary["from"]).strftime("%d %b %Y"),
        last_label=days.from_int(summary["to"]).strftime("%d %b %Y"),
        json_url=url_for("counting.summary", **query, format="json"),
        csv_url=url_for("counting.summary", **query, format="csv"),
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


def _token_form(*, wrong: bool) -> Response:
    response = _private(render_template("token.html", action=_same_range(), wrong=wrong), 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="counter"'
    return response


def _private(html: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
