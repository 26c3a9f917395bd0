"""Alerts: the owner's rules, checked by ``flask alerts check`` (cron) or a scheduled event of the Lambda function."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .. import days, visitors
from ..storage import StoreUnavailable
from ..store import get_store
from . import check, rules, webhook

MIN_SECRET_CHARS = 16
DELIVERY_SECONDS = 5.0  # no attempt starts later in a check: inside Lambda's 10 s with a 2 s attempt after it


def init_app(app: Flask) -> None:
    """Read the rules, the allowed networks and the secret once, failing at start-up on any that is wrong."""
    found = rules.load(app.config["ALERTS"])
    app.extensions["counter.alerts"] = found
    app.extensions["counter.alerts.allowed"] = webhook.networks(app.config["ALERTS_ALLOW_PRIVATE"])
    secret = app.config["ALERTS_SECRET"]
    if secret is not None and (not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS):
        raise ValueError(f"COUNTER_ALERTS_SECRET must be text of at least {MIN_SECRET_CHARS} characters")
    if secret is None and any(rule.to.format == "json" for rule in found):
        raise ValueError("COUNTER_ALERTS names a json webhook: set COUNTER_ALERTS_SECRET to sign its messages")
    app.cli.add_command(alerts_command)


def run(*, dry_run: bool = False, sleep: Callable[[float], None] = time.sleep) -> tuple[list[str], bool]:
    """Check every rule once; send what fires (unless ``dry_run``, which writes and sends nothing).

    :return: one line per rule, and whether every message that had to go went.
    """
    found: list[rules.Rule] = current_app.extensions["counter.alerts"]
    if not found:
        return ["No alert rules: COUNTER_ALERTS is not set."], True
    store, zone = get_store(), current_app.extensions["counter.timezone"]
    deadline = time.monotonic() + DELIVERY_SECONDS
    moment = days.now()
    local = moment.astimezone(zone)
    today, yesterday = days.to_int(local.date()), days.to_int(local.date() - timedelta(days=1))
    state = store.alert_state()
    counts = store.get([today, yesterday])
    hour = check.hour_key(local)
    this_hour = {**check.observation(found, counts.get(today, {})), **state.seen.get(hour, {})}
    forget = check.stale(state, local)
    if not dry_run and (forget or this_hour != state.seen.get(hour)):  # the hour's first check, or one that cleans
        store.observe(hour, this_hour, forget)
    now = check.Moment(local, today, yesterday, counts, state, this_hour)
    lines, delivered = [], True
    for rule in found:
        verdict = check.decide(rule, now)
        said, ok = _act(verdict, now, dry_run=dry_run, sleep=sleep, deadline=deadline)
        lines.append(f"{rule.name}: {said}: {verdict.text}")
        delivered &= ok
    return lines, delivered


def _act(
    verdict: check.Verdict, now: check.Moment, *, dry_run: bool, sleep: Callable[[float], None], deadline: float
) -> tuple[str, bool]:
    """Send the rule's message if it fires (or resolves) and this check takes its mark for the day."""
    rule, marks = verdict.rule, now.state.marks
    if verdict.firing is None:
        return "waiting", True
    fired_today = marks.get(f"fired:{rule.name}", (0, ""))[0] == now.today
    if verdict.firing:
        state = "fired"
    elif rule.resolved and fired_today and marks.get(f"resolved:{rule.name}", (0, ""))[0] != now.today:
        state = "resolved"
    else:
        return ("quiet, fired earlier today" if fired_today else "quiet"), True
    if dry_run:
        return f"would send {state} to {rule.to.name}", True
    taken = not (fired_today and state == "fired") and get_store().mark(
        f"{state}:{rule.name}", now.today, now.local.isoformat())
    if not taken:  # an earlier check, or one running now, has sent it
        return f"{state} already today, not sent again", True
    message = check.alert(verdict, state, now.today, now.local, str(now.local.tzinfo))
    payload = webhook.body(rule.to, message)
    try:
        attempts = webhook.send(rule.to, payload, secret=current_app.config["ALERTS_SECRET"],
                                allowed=current_app.extensions["counter.alerts.allowed"], sleep=sleep,
                                deadline=deadline)
    except (webhook.Refused, webhook.Undelivered) as exc:
        get_store().unmark(f"{state}:{rule.name}", now.today)  # the next check tries again
        current_app.logger.warning("alert %s not sent: %s", rule.name, exc)
        return f"NOT SENT ({exc})", False
    return f"{state}, sent to {rule.to.name} ({attempts} attempt{'s' * (attempts > 1)})", True


def last_fired() -> list[dict[str, Any]]:
    """Each rule in words with when it last fired, for the dashboard; ``[]`` without rules (and without a read)."""
    found: list[rules.Rule] = current_app.extensions["counter.alerts"]
    if not found:
        return []
    marks = get_store().alert_state(seen=False).marks
    return [{"name": rule.name, "text": rule.describe(), "to": rule.to.name,
             "fired": marks.get(f"fired:{rule.name}", (0, None))[1]} for rule in found]


@click.group("alerts")
def alerts_command() -> None:
    """The alert rules of COUNTER_ALERTS."""


@alerts_command.command("check")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; write and send nothing.")
@with_appcontext
def check_command(dry_run: bool) -> None:
    """Check every rule once and send what fires: run it from cron every 15 minutes."""
    try:
        lines, delivered = run(dry_run=dry_run)
    except StoreUnavailable as exc:
        raise click.ClickException(f"The alerts were not checked: {exc}.") from None
    click.echo("\n".join(lines))
    if not delivered:
        raise click.ClickException("A message was not delivered; the next check tries again.")


def scheduled(event: Any = None, context: Any = None) -> list[str]:
    """The Lambda entry of Zappa's scheduled event (``events`` in zappa_settings.json): one check, and old salts purged.

    Zappa's handler has made ``wsgi.app`` already (at import), so the check uses its store and connection.
    """
    app = importlib.import_module("wsgi").app
    with app.app_context():
        # Here too because it runs whatever the traffic: a day's salt must not wait for the next day's visitor.
        swept = visitors.forget_salts()
        lines, delivered = run()
    lines = [swept, *lines]
    for line in lines:
        print(line)
    if not delivered:
        raise RuntimeError("an alert was not delivered; the next scheduled check tries again")
    return lines
