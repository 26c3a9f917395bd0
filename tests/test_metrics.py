"""GET /metrics: OpenMetrics that prometheus_client's own parser reads, behind the read token, on both stores."""

from __future__ import annotations

from datetime import datetime, timezone

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from counter_app import create_app
from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.conftest import NOW, TODAY

TOKEN = "metrics-token-0123456789"
CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family) -> dict:
    return {tuple(sorted(sample.labels.items())): sample.value for sample in family.samples}


def test_metrics_parse_with_todays_and_yesterdays_counts(any_app):
    with any_app.app_context():
        get_store().set(TODAY, "PAGEVIEW", 12)
        get_store().set(TODAY, 'ODD"NAME\\', 1)  # not an event name a request may send, but the store may hold it
        get_store().set(20261126, "SIGNUP", 4)
    reply = any_app.test_client().get("/metrics")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == CONTENT_TYPE
    text = reply.get_data(as_text=True)
    assert text.endswith("# EOF\n")
    found = families(text)
    assert {name: family.type for name, family in found.items()} == {
        "counter_events_today": "gauge", "counter_events_yesterday": "gauge",
        "counter_visitors_today": "gauge", "counter_visitors_yesterday": "gauge",
        "counter_day_start_timestamp_seconds": "gauge", "counter_store_up": "gauge",
        "counter_store_check_seconds": "gauge", "counter_alert_last_fired_timestamp_seconds": "gauge"}
    assert samples(found["counter_events_today"]) == {(("event", "PAGEVIEW"),): 12, (("event", 'ODD"NAME\\'),): 1}
    assert samples(found["counter_events_yesterday"]) == {(("event", "SIGNUP"),): 4}
    assert samples(found["counter_store_up"]) == {(): 1}
    assert samples(found["counter_day_start_timestamp_seconds"]) == {
        (): datetime(2026, 11, 27, tzinfo=timezone.utc).timestamp()}
    assert all(family.documentation for family in found.values())


def test_metrics_give_todays_and_yesterdays_visitors_when_they_are_counted(any_app):
    with any_app.app_context():
        get_store().write_many([(TODAY, "PAGEVIEW", 12, 7), (20261126, "PAGEVIEW", 4, 3)], replace=True)
    found = families(any_app.test_client().get("/metrics").get_data(as_text=True))
    assert samples(found["counter_visitors_today"]) == {(("event", "PAGEVIEW"),): 7}
    assert samples(found["counter_visitors_yesterday"]) == {(("event", "PAGEVIEW"),): 3}
    assert samples(found["counter_events_today"]) == {(("event", "PAGEVIEW"),): 12}
    any_app.config["VISITORS"] = False  # COUNTER_VISITORS=false: nothing hashed, and no visitors shown
    found = families(any_app.test_client().get("/metrics").get_data(as_text=True))
    assert "counter_visitors_today" not in found and "counter_events_today" in found


def test_metrics_need_the_token(tmp_path):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": TOKEN, "CLOCK": lambda: NOW})
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json["status"] == "failure"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and allowed.headers["Cache-Control"] == "private, no-store"
    families(allowed.get_data(as_text=True))


def test_a_store_down_is_a_metric_not_an_error(app):
    def down():
        raise StoreUnavailable("SQLite: disk I/O error")

    store = app.extensions["counter.store"]
    store.check = down
    store.get = lambda days: (_ for _ in ()).throw(AssertionError("no read after a failed check"))
    reply = app.test_client().get("/metrics")
    assert reply.status_code == 200
    found = families(reply.get_data(as_text=True))
    assert samples(found["counter_store_up"]) == {(): 0} and samples(found["counter_events_today"]) == {}


def test_alert_rules_show_when_they_last_fired(app, tmp_path):
    rules = {"webhooks": {"t": {"url": "https://hooks.slack.com/services/T/B/X"}},
             "rules": [{"name": "signups", "kind": "below", "event": "SIGNUP", "fewer_than": 1, "by": "10:00",
                        "to": "t"}, {"name": "spike", "kind": "above", "event": "PAGEVIEW", "times": 3, "to": "t"}]}
    app = create_app({"STORE": f"sqlite:///{tmp_path}/a.sqlite3", "ALERTS": rules, "CLOCK": lambda: NOW})
    with app.app_context():
        get_store().mark("fired:signups", TODAY, NOW.isoformat())
    found = families(app.test_client().get("/metrics").get_data(as_text=True))
    assert samples(found["counter_alert_last_fired_timestamp_seconds"]) == {
        (("rule", "signups"),): NOW.timestamp(), (("rule", "spike"),): 0}
