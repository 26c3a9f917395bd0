"""Alert rules: each kind fires on a seeded history and stays quiet on a normal one, on SQLite and DynamoDB, once."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest

from counter_app import alerts, create_app
from counter_app.alerts import check
from counter_app.store import get_store
from tests.conftest import NOW, TODAY, dynalite_app
from tests.receiver import Receiver

ALLOW = "127.0.0.1/32"
YESTERDAY = 20261126
RULES = {  # NOW is 12:00 UTC on 27 Nov 2026
    "below": {"kind": "below", "event": "SIGNUP", "fewer_than": 1, "by": "10:00"},
    "above": {"kind": "above", "event": "PAGEVIEW", "times": 3},
    "drop": {"kind": "drop", "event": "PAGEVIEW", "fraction": 0.3, "after": "12:00"},
    "zero": {"kind": "zero", "event": "CHECKOUT", "hours": 6, "while": "PAGEVIEW", "more_than": 100},
}
# kind: (today's counts that make it fire, those of a normal day)
TODAYS = {
    "below": ({"PAGEVIEW": 90}, {"SIGNUP": 1}),
    "above": ({"PAGEVIEW": 400}, {"PAGEVIEW": 110}),
    "drop": ({"PAGEVIEW": 20}, {"PAGEVIEW": 95}),
    "zero": ({"CHECKOUT": 5, "PAGEVIEW": 300}, {"CHECKOUT": 9, "PAGEVIEW": 300}),
}


def settings(url: str, *kinds: str, **extra) -> dict:
    return {"ALERTS": {"webhooks": {"team": {"url": url, "format": "slack"}},
                       "rules": [{"name": kind, **RULES[kind], "to": "team", **extra} for kind in kinds]},
            "ALERTS_ALLOW_PRIVATE": ALLOW}


@pytest.fixture(params=["sqlite", "dynalite"])
def make_app(request, tmp_path, monkeypatch):
    """An app with the given settings on each store."""
    def make(config: dict):
        if request.param == "sqlite":
            store = f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.sqlite3"
            return create_app({"TESTING": True, "STORE": store, "CLOCK": lambda: NOW, **config})
        return dynalite_app(request.getfixturevalue("dynalite"), monkeypatch, **config)
    return make


def seed(app, today: dict[str, int]) -> None:
    """Ten past days that each had 100 PAGEVIEW by noon; this morning's 06:00 check; today's counts."""
    with app.app_context():
        store = get_store()
        for back in range(1, 11):
            store.observe(check.hour_key(NOW - timedelta(days=back)), {"PAGEVIEW": 100, "SIGNUP": 2})
        store.observe(f"{TODAY}06", {"CHECKOUT": 5, "PAGEVIEW": 50})
        for event, count in today.items():
            store.set(TODAY, event, count)


def checked(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["alerts", "check"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


@pytest.mark.parametrize("kind", RULES)
def test_each_rule_fires_once_on_a_bad_day_and_stays_quiet_on_a_normal_one(make_app, kind):
    with Receiver() as receiver:
        bad, normal = make_app(settings(receiver.url, kind)), make_app(settings(receiver.url, kind))
        seed(bad, TODAYS[kind][0])
        seed(normal, TODAYS[kind][1])
        assert checked(normal)[0].startswith(f"{kind}: quiet:")
        assert receiver.requests == []
        (line,) = checked(bad)
        assert line.startswith(f"{kind}: fired, sent to team (1 attempt):"), line
        assert checked(bad)[0].startswith(f"{kind}: fired already today, not sent again")  # the next check
        (message,) = [json.loads(body) for _, _, body in receiver.requests]
    assert message["text"].startswith(f"Alert: {kind}: ")
    with bad.app_context():
        assert get_store().alert_state().marks[f"fired:{kind}"][0] == TODAY


def test_a_rule_speaks_again_the_next_day_and_says_resolved_once(make_app):
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "below", resolved=True))
        seed(app, {})
        checked(app)
        with app.app_context():
            get_store().set(TODAY, "SIGNUP", 3)
        assert checked(app)[0].startswith("below: resolved, sent to team")
        assert checked(app)[0].startswith("below: quiet, fired earlier today")
        app.config["CLOCK"] = lambda: NOW + timedelta(days=1)
        assert checked(app)[0].startswith("below: fired, sent to team")
        texts = [json.loads(body)["text"] for _, _, body in receiver.requests]
    assert [text.split(":")[0] for text in texts] == ["Alert", "Resolved", "Alert"]


def test_median_rules_wait_for_seven_observed_days_and_zero_for_its_observation(make_app):
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "above", "zero"))
        with app.app_context():
            get_store().set(TODAY, "PAGEVIEW", 10_000)
        lines = checked(app)
    assert lines[0].startswith("above: waiting: learning: 0 of 7 days observed at 12:00")
    assert lines[1].startswith("zero: waiting: no check observed 06:00")
    assert receiver.requests == []


def test_the_check_records_the_hour_once_and_forgets_old_hours(make_app):
    app = make_app(settings("http://127.0.0.1:9/", "above"))
    with app.app_context():
        store = get_store()
        store.observe("2026100112", {"PAGEVIEW": 1})  # 57 days before: older than any rule looks
        store.set(TODAY, "PAGEVIEW", 7)
    checked(app)
    with app.app_context():
        store.set(TODAY, "PAGEVIEW", 9)
    checked(app)
    with app.app_context():
        assert store.alert_state().seen == {f"{TODAY}12": {"PAGEVIEW": 7}}  # the hour's first check


def test_zero_reaches_across_midnight(make_app):
    early = NOW.replace(hour=2)
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "zero"))
        app.config["CLOCK"] = lambda: early
        with app.app_context():
            store = get_store()
            store.observe(f"{YESTERDAY}20", {"CHECKOUT": 4, "PAGEVIEW": 10})
            store.set(YESTERDAY, "CHECKOUT", 4)
            store.set(YESTERDAY, "PAGEVIEW", 80)
            store.set(TODAY, "PAGEVIEW", 40)
        (line,) = checked(app)
    assert line.startswith("zero: fired") and "0 CHECKOUT and 110 PAGEVIEW since 20:00" in line


def test_dry_run_writes_and_sends_nothing(make_app):
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "below"))
        result = app.test_cli_runner().invoke(args=["alerts", "check", "--dry-run"])
        assert result.exit_code == 0 and "below: would send fired to team" in result.output
        assert receiver.requests == []
    with app.app_context():
        state = get_store().alert_state()
    assert state.marks == {} and state.seen == {}


def test_two_concurrent_checks_send_one_message(make_app):
    """Both checks read the state before either takes the mark: the conditional write lets one through."""
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "below"))
        store = app.extensions["counter.store"]
        both_read = threading.Barrier(2, timeout=10)
        real_mark = store.mark
        store.mark = lambda *args: both_read.wait() is not None and real_mark(*args)
        results = []

        def one_check():
            with app.app_context():
                results.append(alerts.run())

        threads = [threading.Thread(target=one_check) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(receiver.requests) == 1
    said = sorted(lines[0].split(":")[1].strip() for lines, _ in results)
    assert said == ["fired already today, not sent again", "fired, sent to team (1 attempt)"]


def test_an_undelivered_message_is_released_for_the_next_check(make_app):
    app = make_app(settings("http://127.0.0.1:9/hook", "below"))  # nothing listens there
    with app.app_context():
        lines, delivered = alerts.run(sleep=lambda seconds: None)
        assert not delivered and "NOT SENT" in lines[0]
        assert get_store().alert_state().marks == {}
    result = app.test_cli_runner().invoke(args=["alerts", "check"])
    assert result.exit_code == 1 and "the next check tries again" in result.output


def test_no_rules_no_reads(app):
    app.extensions["counter.store"] = None  # any read would fail
    result = app.test_cli_runner().invoke(args=["alerts", "check"])
    assert result.exit_code == 0 and "No alert rules" in result.output


def test_the_dashboard_shows_the_rules_and_when_each_last_fired(make_app):
    with Receiver() as receiver:
        app = make_app(settings(receiver.url, "below", "above"))
        checked(app)
    page = app.test_client().get("/dashboard").get_data(as_text=True)
    assert '<tr data-rule="below"><th scope="row">below</th><td>fewer than 1 SIGNUP by 10:00</td><td>team</td>' \
           '<td><time datetime="2026-11-27T12:00:00+00:00">2026-11-27 12:00</time></td></tr>' in page
    assert '<tr data-rule="above"><th scope="row">above</th>' in page and "<td>never</td>" in page


def test_the_rule_in_the_docs_tells_slack_once_when_sign_ups_stop(tmp_path):
    """docs/alerts.md's rule and message, at 14:15 in Paris: 240 pages seen since 08:00, and no sign-up."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "alerts.md").read_text()
    document = json.loads(text.split("```json\n")[1].split("```")[0])
    quoted = text.split("\n> ")[1].split("\n")[0]
    with Receiver() as receiver:
        document["webhooks"]["team"]["url"] = receiver.url
        paris = NOW.replace(hour=13, minute=15)  # 14:15 in Paris, UTC+1 in November
        app = create_app({"STORE": f"sqlite:///{tmp_path}/d.sqlite3", "TIMEZONE": "Europe/Paris", "ALERTS": document,
                          "ALERTS_ALLOW_PRIVATE": ALLOW, "CLOCK": lambda: paris})
        with app.app_context():
            get_store().observe(f"{TODAY}08", {"SIGNUP": 7, "PAGEVIEW": 60})
            get_store().set(TODAY, "SIGNUP", 7)
            get_store().set(TODAY, "PAGEVIEW", 300)
        checked(app)
        checked(app)
        (message,) = [json.loads(body) for _, _, body in receiver.requests]
    assert message == {"text": quoted}


def test_a_mark_is_taken_once_a_period_and_released_only_for_its_period(make_app):
    with make_app({}).app_context():
        store = get_store()
        assert store.mark("fired:x", TODAY, "first") is True
        assert store.mark("fired:x", TODAY, "again") is False
        assert store.mark("fired:x", YESTERDAY, "older") is False
        store.unmark("fired:x", YESTERDAY)  # not the period held: nothing changes
        assert store.alert_state(seen=False).marks == {"fired:x": (TODAY, "first")}
        store.unmark("fired:x", TODAY)
        assert store.alert_state().marks == {}
        assert store.mark("fired:x", TODAY, "retried") is True
        assert store.get([TODAY, YESTERDAY]) == {} and list(store.dump()) == []  # bookkeeping, never counts


def test_make_deploy_gives_the_function_its_rules_inline_and_refuses_bad_ones(tmp_path):
    from deploy import checks
    from deploy.stages import function_environment

    rules = tmp_path / "alerts.toml"
    rules.write_text('[webhooks.team]\nurl = "https://hooks.slack.com/services/T/B/X"\n\n[[rules]]\nname = "s"\n'
                     'kind = "below"\nevent = "SIGNUP"\nfewer_than = 1\nby = "14:00"\nto = "team"\n')
    given = function_environment("dev", {"COUNTER_ALERTS": str(rules), "COUNTER_ALERTS_SECRET": "s" * 16})
    assert json.loads(given["COUNTER_ALERTS"])["rules"] == [
        {"name": "s", "kind": "below", "event": "SIGNUP", "fewer_than": 1, "by": "14:00", "to": "team"}]
    assert given["COUNTER_ALERTS_SECRET"] == "s" * 16
    found = checks.problems("dev", {"COUNTER_READ_TOKEN": "t" * 16, "COUNTER_ALERTS": '{"rules": 5}'})
    assert "The dev function would refuse to start: COUNTER_ALERTS: 'rules' must be a list of at most 20 rules." \
        in found


def test_zero_counts_real_hours_across_a_change_of_clocks(tmp_path):
    """29 March 2026 in Paris: 01:59 CET is followed by 03:00 CEST. At 07:30, six real hours ago was 00:30."""
    from datetime import datetime, timezone

    at = datetime(2026, 3, 29, 5, 30, tzinfo=timezone.utc)  # 07:30 CEST
    with Receiver() as receiver:
        config = settings(receiver.url, "zero")
        app = create_app({"STORE": f"sqlite:///{tmp_path}/z.sqlite3", "TIMEZONE": "Europe/Paris",
                          "CLOCK": lambda: at, **config})
        with app.app_context():
            get_store().observe("2026032900", {"CHECKOUT": 1, "PAGEVIEW": 10})
            get_store().set(20260329, "CHECKOUT", 1)
            get_store().set(20260329, "PAGEVIEW", 200)
        (line,) = checked(app)
    assert line.startswith("zero: fired") and "since 00:00" in line
