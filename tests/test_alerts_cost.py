"""The calls and the item sizes that the bill's alert and /metrics lines rest on (deploy/cost.py, docs/alerts.md)."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest

from counter_app.alerts import check, rules
from counter_app.store import get_store
from counter_app.storage.dynamodb_alerts import OBSERVED
from deploy import cost
from deploy.stages import stage_settings
from tests.conftest import NOW, TODAY, dynalite_app

LONGEST = "E" * 64  # the longest event name
RULES = {"webhooks": {"t": {"url": "https://hooks.slack.com/services/T/B/X"}},
         "rules": [{"name": f"r{n}", "kind": "above", "event": f"{LONGEST[:-1]}{n}", "times": 3, "to": "t"}
                   for n in range(rules.MAX_EVENTS)]}


@pytest.fixture
def app(dynalite, monkeypatch):
    return dynalite_app(dynalite, monkeypatch, ALERTS=RULES)


def calls(app, action) -> list[str]:
    """The DynamoDB operations ``action`` sends."""
    sent = []
    with app.app_context():
        client = get_store().client
        def note(model, **kwargs):
            sent.append(model.name)

        client.meta.events.register("before-call.dynamodb", note)
        action()
        client.meta.events.unregister("before-call.dynamodb", note)
    return sent


def test_a_check_reads_twice_and_writes_once_an_hour(app):
    first = calls(app, lambda: app.test_cli_runner().invoke(args=["alerts", "check"]))
    again = calls(app, lambda: app.test_cli_runner().invoke(args=["alerts", "check"]))
    assert first == ["BatchGetItem", "BatchGetItem", "UpdateItem"]  # the state, the two days; the hour observed
    assert again == ["BatchGetItem", "BatchGetItem"]


def test_a_scrape_makes_four_reads(app):
    # The health check, the two days' items, their visitors items, the alerts' marks.
    assert calls(app, lambda: app.test_client().get("/metrics")) == ["GetItem", "BatchGetItem", "BatchGetItem",
                                                                     "GetItem"]


def test_the_largest_observed_hours_item_fits_the_bill(app):
    """Every hour of 29 days, each with the five longest names at the largest count: DynamoDB's own item size."""
    with app.app_context():
        store = get_store()
        counts = {f"{LONGEST[:-1]}{n}": 2**63 - 1 for n in range(rules.MAX_EVENTS)}
        for hour in range(check.KEPT_DAYS * 24):
            store.observe(check.hour_key(NOW - timedelta(hours=hour)), counts)
        item = store.client.get_item(TableName=store.table, Key={"Day": {"N": str(OBSERVED)}})["Item"]
    # An item's size: its attribute names' and values' lengths in UTF-8 (a number: about a byte per two digits).
    size = sum(len(name.encode()) + len(value.get("S", value.get("N", "")).encode()) for name, value in item.items())
    assert math.ceil(size / 4096) <= 80 and math.ceil(size / 1024) <= cost.OBSERVE_WRITE_UNITS
    assert size < 400 * 1024  # DynamoDB's item limit
    assert len([name for name in item if name.startswith("seen:")]) == check.KEPT_DAYS * 24
    assert json.loads(item[f"seen:{TODAY}12"]["S"]) == counts


def test_the_bill_counts_a_check_every_quarter_hour_and_a_scrape_a_minute():
    assert cost.checks_per_month(stage_settings("dev")) == 30 * 24 * 4
    assert cost.SCRAPES_PER_MONTH == 30 * 24 * 60
    with pytest.raises(ValueError, match="not cron"):
        cost.checks_per_month({"events": [{"function": "counter_app.alerts.scheduled",
                                           "expression": "cron(0 * * * ? *)"}]})
