"""Daily visitors per event, without cookies: exact on SQLite and on DynamoDB's stream path (moto, aggregated)."""

from __future__ import annotations

import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from flask import request

from counter_app import alerts, create_app, snapstart, visitors
from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.conftest import NOW, TODAY, dynalite_app
from tests.lambda_package import STAGES, new_event
from tests.live import LiveServer
from tests.pages import PageSite, page, wait_until
from tests.test_browser_counting import STAGE, staged, totals, visit
from tests.test_dashboard import row
from tests.test_lambda_package import SHAPES, function, stage_of  # noqa: F401 (function: the packaged handler)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
TOMORROW = 20261128


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "stream"])
def site(request, tmp_path, monkeypatch):
    """An app with visitors on, on SQLite or on moto's DynamoDB with the stream path, and its clock."""
    return make_site(request, tmp_path, monkeypatch)


def make_site(request, tmp_path, monkeypatch, **config):
    """:func:`site` with more settings."""
    clock = Clock()
    if request.param == "sqlite":
        app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": clock, **config})
    else:
        app = dynalite_app(request.getfixturevalue("moto_server"), monkeypatch, CLOCK=clock, **config)
    return app, clock


@pytest.fixture(params=["sqlite", "stream"])
def capped(request, tmp_path, monkeypatch):
    """:func:`site` taking one new name a day."""
    return make_site(request, tmp_path, monkeypatch, MAX_EVENTS_PER_DAY=1)


def hit(app, event: str = "PAGEVIEW", agent: str = FIREFOX, address: str = "198.51.100.7", **headers) -> dict:
    """One counted hit from ``address`` with ``agent``, asserting its 200."""
    reply = app.test_client().get("/", query_string={"e": event}, headers={"User-Agent": agent, **headers},
                                  environ_base={"REMOTE_ADDR": address})
    assert reply.status_code == 200, reply.json
    return reply.json


def seen(app, day: int = TODAY) -> dict[str, int]:
    """The day's visitors per event, after the aggregator has run on DynamoDB."""
    if app.config["STORE"].startswith("dynamodb"):
        assert app.test_cli_runner().invoke(args=["aggregate"]).exit_code == 0
    with app.app_context():
        return get_store().visitors([day]).get(day, {})


def test_same_address_and_agent_twice_a_day_is_one_visitor_and_the_next_day_one_more(site):
    app, clock = site
    hit(app)
    hit(app)
    hit(app, "SIGNUP")
    assert seen(app) == {"PAGEVIEW": 1, "SIGNUP": 1}
    clock.now = NOW + timedelta(days=1)
    hit(app)
    assert seen(app) == {"PAGEVIEW": 1, "SIGNUP": 1}
    assert seen(app, TOMORROW) == {"PAGEVIEW": 1}


def test_two_agents_behind_one_address_are_two_and_two_addresses_are_two(site):
    app, _ = site
    hit(app, agent=FIREFOX)
    hit(app, agent=CHROME)
    hit(app, address="203.0.113.9")
    assert seen(app) == {"PAGEVIEW": 3}


def test_a_spoofed_x_forwarded_for_makes_no_new_visitor(site):
    app, _ = site
    for n in range(5):
        hit(app, **{"X-Forwarded-For": f"192.0.2.{n}", "X-Real-IP": f"192.0.2.{n}", "Forwarded": f"for=192.0.2.{n}"})
    assert seen(app) == {"PAGEVIEW": 1}


def test_sixteen_threads_one_visitor_is_one(site):
    app, _ = site
    hit(app)  # places the name, so the threads race on the visitor alone
    replies: list[int] = []

    def send() -> None:
        client = app.test_client()
        for _ in range(3):
            reply = client.get("/?e=PAGEVIEW", headers={"User-Agent": CHROME}, environ_base={"REMOTE_ADDR": "::1"})
            replies.append(reply.status_code)

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [200] * 48
    assert seen(app) == {"PAGEVIEW": 2}


def test_a_returning_visitor_is_read_not_put_again_by_a_process_that_has_not_seen_it(moto_server, monkeypatch):
    """A failed conditional put is billed like a write, so a process that has not seen the visitor reads first."""
    app = dynalite_app(moto_server, monkeypatch)
    with app.app_context():
        store = get_store()
    calls: list[str] = []  # the calls on the ids table, where visitor records are

    def on_ids(params, model, **_) -> None:
        if params.get("TableName") == store.ids_table:
            calls.append(model.name)

    store.client.meta.events.register("provide-client-params.dynamodb", on_ids)
    hit(app)
    assert calls == ["GetItem", "PutItem"]  # the visitor's record: read, not found, put
    calls.clear()
    store.after_restore()  # as another process: it has not seen this visitor
    hit(app)
    assert calls == ["GetItem"]  # read, found, not put
    calls.clear()
    hit(app)  # this process has seen it now
    assert calls == []
    assert seen(app) == {"PAGEVIEW": 1}


def test_retries_with_one_id_are_one_visitor_and_a_duplicate_id_adds_none(site):
    app, _ = site
    client = app.test_client()
    key = uuid.uuid4().hex
    for agent in (FIREFOX, FIREFOX, CHROME):  # the last: the same id from another agent is still a duplicate
        reply = client.get("/", query_string={"e": "PAGEVIEW", "id": key}, headers={"User-Agent": agent})
        assert reply.status_code == 200
    assert seen(app) == {"PAGEVIEW": 1}
    with app.app_context():
        assert get_store().get([TODAY])[TODAY] == {"PAGEVIEW": 1}


def test_a_bot_a_prefetch_and_a_refused_hit_add_no_visitor(site):
    app, _ = site
    client = app.test_client()
    assert client.get("/?e=PAGEVIEW", headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
                      ).json["counted"] is False
    prefetch = client.get("/?e=PAGEVIEW", headers={"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"})
    assert prefetch.json["counted"] is False
    assert client.get("/?e=bad name!", headers={"User-Agent": FIREFOX}).status_code == 400
    assert client.get("/?e=PAGEVIEW&c=20261126", headers={"User-Agent": FIREFOX}).status_code == 200  # a past day
    assert seen(app) == {} and seen(app, 20261126) == {}


def salts(app) -> set[int]:
    """The days whose salt the store holds."""
    with app.app_context():
        store = get_store()
    if app.config["STORE"].startswith("sqlite"):
        with store._errors() as conn:
            return {day for (day,) in conn.execute(f'SELECT day FROM "{store.salts_table}"').fetchall()}
    found = store.client.scan(TableName=store.salts_table)["Items"]
    return {int(item["Id"]["S"][5:]) for item in found if item["Id"]["S"].startswith("salt#")}


def test_the_salt_is_made_on_first_use_and_gone_within_48_hours(site):
    app, clock = site
    assert salts(app) == set()
    hit(app)
    assert salts(app) == {TODAY}
    clock.now = NOW + timedelta(hours=24)  # the next day's first visitor deletes the day before's salt
    hit(app)
    assert salts(app) == {TOMORROW}
    if app.config["STORE"].startswith("sqlite"):
        with app.app_context():
            store = get_store()
        with store._errors() as conn:  # the day's hashes went with its salt
            assert {d for (d,) in conn.execute(f'SELECT day FROM "{store.table}_visits"').fetchall()} == {TOMORROW}


def test_a_scheduled_run_with_no_visitor_deletes_a_salt_older_than_48_hours(site, monkeypatch):
    app, clock = site
    hit(app)
    assert salts(app) == {TODAY}
    clock.now = NOW + timedelta(hours=49)  # two days on, and no visitor since
    monkeypatch.setitem(sys.modules, "wsgi", SimpleNamespace(app=app))  # Zappa's handler imports it first
    assert alerts.scheduled()[0] == "Salts of the days before today purged."
    assert salts(app) == set()


def test_a_restored_snapshot_makes_a_new_salt_on_a_new_day(site):
    app, clock = site
    hit(app)  # the snapshot's process cached today's salt
    cached_day, old = app.extensions["counter.salt"]
    assert cached_day == TODAY and len(old) == 32
    clock.now = NOW + timedelta(days=1)
    snapstart.after_restore(app)  # a copy restored the next day
    assert app.extensions["counter.salt"][0] is None
    hit(app)
    day, new = app.extensions["counter.salt"]
    assert day == TOMORROW and new != old
    assert seen(app, TOMORROW) == {"PAGEVIEW": 1}


def test_visitors_off_hash_and_store_nothing_and_reads_show_none(tmp_path):
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW,
                      "VISITORS": "false"})
    hit(app)
    assert salts(app) == set() and seen(app) == {}
    reply = app.test_client().get("/summary", query_string={"from": TODAY, "to": TODAY}).json
    assert "visitors" not in reply and "visitors" not in reply["days"][0]


def test_summary_gives_visitors_per_day_and_the_sum_of_days_per_week_in_json_and_csv(site):
    app, clock = site
    hit(app)
    hit(app, agent=CHROME)
    clock.now = NOW + timedelta(days=1)
    hit(app)
    seen(app, TOMORROW)  # aggregated
    client = app.test_client()
    days = client.get("/summary", query_string={"from": TODAY, "to": TOMORROW}).json
    assert [row["visitors"] for row in days["days"]] == [{"PAGEVIEW": 2}, {"PAGEVIEW": 1}]
    assert days["visitors"] == {"PAGEVIEW": 3}
    week = client.get("/summary", query_string={"from": TODAY, "to": TOMORROW, "group": "week"}).json
    assert week["periods"][0]["visitors"] == {"PAGEVIEW": 3}  # a sum of days, not the week's unique people
    text = client.get("/summary", query_string={"from": TODAY, "to": TOMORROW, "format": "csv"}).get_data(as_text=True)
    assert text.splitlines()[:2] == ["day,event,count,visitors", f"{TODAY},PAGEVIEW,2,2"]
    grouped = client.get("/summary", query_string={"from": TODAY, "to": TOMORROW, "format": "csv", "group": "week"})
    assert grouped.get_data(as_text=True).splitlines()[0].endswith(",event,count,visitors")


@pytest.mark.parametrize("header, sent, same", [
    ("CloudFront-Viewer-Address", ["198.51.100.7:40001", "198.51.100.7:51234"], True),  # ports differ per connection
    ("CloudFront-Viewer-Address", ["198.51.100.7:40001", "198.51.100.8:40001"], False),
    ("CloudFront-Viewer-Address", ["[2001:db8::1]:443", "2001:db8::1:8443"], True),
    ("X-Real-IP", ["192.0.2.1", "192.0.2.2"], False),  # a local proxy's header, named explicitly
])
def test_a_header_the_front_door_sets_names_the_address_only_when_configured(tmp_path, header, sent, same):
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW,
                      "CLIENT_ADDRESS_HEADER": header})
    for value in sent:
        hit(app, address="10.0.0.1", **{header: value})  # the socket's peer is the front door, the same each time
    assert seen(app) == {"PAGEVIEW": 1 if same else 2}
    plain = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/p.sqlite3", "CLOCK": lambda: NOW})
    for value in sent:
        hit(plain, address="10.0.0.1", **{header: value})  # not configured: the header is the client's, ignored
    assert seen(plain) == {"PAGEVIEW": 1}


def test_a_configured_header_that_is_missing_or_not_an_address_counts_the_hit_without_a_visitor(tmp_path):
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW,
                      "CLIENT_ADDRESS_HEADER": "CloudFront-Viewer-Address"})
    hit(app)
    hit(app, **{"CloudFront-Viewer-Address": "not an address"})
    assert seen(app) == {}
    with app.app_context():
        assert get_store().get([TODAY])[TODAY] == {"PAGEVIEW": 2}


@pytest.mark.parametrize("context", [
    {"identity": {"sourceIp": "{ip}"}},  # API Gateway REST (payload 1.0)
    {"http": {"sourceIp": "{ip}", "method": "GET"}},  # HTTP API and function URLs (payload 2.0)
])
def test_on_lambda_the_gateways_source_ip_is_the_address_not_zappas_remote_addr(tmp_path, context):
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW})
    for n, ip in enumerate(["198.51.100.7", "198.51.100.7", "203.0.113.5"]):
        event = {"requestContext": {k: {**v, "sourceIp": ip} for k, v in context.items()}}
        # Zappa sets REMOTE_ADDR from the client's X-Forwarded-For: a new value each time must not matter.
        reply = app.test_client().get(
            "/?e=PAGEVIEW", headers={"User-Agent": FIREFOX, "X-Forwarded-For": f"192.0.2.{n}"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}", "lambda.event": event})
        assert reply.status_code == 200
    assert seen(app) == {"PAGEVIEW": 2}


@pytest.mark.parametrize("value", ["Content-Type: x", 5, "two words"])
def test_a_bad_address_header_setting_fails_the_start_naming_it(tmp_path, value):
    with pytest.raises(ValueError, match="COUNTER_CLIENT_ADDRESS_HEADER"):
        create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLIENT_ADDRESS_HEADER": value})


def test_a_hit_the_moment_its_day_ended_adds_no_visitor_and_makes_no_salt(tmp_path):
    late = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: late})
    with app.test_request_context("/", headers={"User-Agent": FIREFOX}):
        assert visitors.visitor(request, TODAY) is None
    assert salts(app) == set()


def test_export_carries_visitors_and_import_sets_them_and_old_files_still_import(site, tmp_path):
    app, clock = site
    hit(app)
    hit(app, agent=CHROME)
    seen(app)
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["export"]).stdout
    assert exported == f"day,event,count,visitors\n{TODAY},PAGEVIEW,2,2\n"
    (tmp_path / "new.csv").write_text(f"day,event,count,visitors\n{TODAY},PAGEVIEW,5,4\n20261101,A,3,1\n")
    (tmp_path / "old.json").write_text('[{"day": 20261102, "event": "A", "count": 7}]')
    for name in ("new.csv", "old.json"):
        result = runner.invoke(args=["import", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    with app.app_context():
        store = get_store()
        assert store.get([TODAY, 20261101, 20261102]) == {TODAY: {"PAGEVIEW": 7}, 20261101: {"A": 3},
                                                          20261102: {"A": 7}}
        # Set, not added: a sum of two visitor figures is no count of visitors.
        assert store.visitors([TODAY, 20261101, 20261102]) == {TODAY: {"PAGEVIEW": 4}, 20261101: {"A": 1}}
    (tmp_path / "bad.csv").write_text(f"day,event,count,visitors\n{TODAY},A,1\n{TODAY},B,1,-1\n")
    result = runner.invoke(args=["import", str(tmp_path / "bad.csv")])
    assert result.exit_code == 1 and "four fields" in result.output + result.stderr and "count" in result.stderr


def test_the_dashboard_shows_views_and_visitors_side_by_side_with_the_range_before(site):
    app, clock = site
    clock.now = NOW - timedelta(days=30)  # in the range before the default 30 days
    hit(app)
    seen(app, 20261028)
    clock.now = NOW
    for agent in (FIREFOX, FIREFOX, CHROME):
        hit(app, agent=agent)
    seen(app)
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    # Views, then visitors; a base this small shows the difference, not a percentage.
    assert row(html, "PAGEVIEW") == ["PAGEVIEW", "3", "1", "▲ +2", "2", "1", "▲ +1"]
    assert "not the number of unique people" in html


def test_the_badge_shows_views_or_visitors(tmp_path):
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW})
    for agent in (FIREFOX, FIREFOX, CHROME):
        hit(app, agent=agent)
    client = app.test_client()
    assert "PAGEVIEW: 3 / 30d" in client.get("/badge.svg?e=PAGEVIEW").get_data(as_text=True)
    assert "PAGEVIEW: 3 / 30d" in client.get("/badge.svg?e=PAGEVIEW&show=views").get_data(as_text=True)
    visitors_badge = client.get("/badge.svg?e=PAGEVIEW&show=visitors&days=7").get_data(as_text=True)
    assert "PAGEVIEW: 2 visitors / 7d" in visitors_badge
    assert client.get("/badge.svg?e=PAGEVIEW&show=people").status_code == 400
    off = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/o.sqlite3", "VISITORS": False})
    reply = off.test_client().get("/badge.svg?e=PAGEVIEW&show=visitors")
    assert reply.status_code == 400 and "COUNTER_VISITORS" in reply.json["error"]


@pytest.mark.parametrize("shape", ["http-api", "rest-api"])
def test_through_the_packaged_handler_the_gateways_source_ip_is_the_visitor_not_x_forwarded_for(
        function, tables, shape):  # noqa: F811 (the fixture imported above)
    """Zappa sets REMOTE_ADDR from X-Forwarded-For (addresses[-2]): a client writing it must make no new visitor."""
    event, stage = new_event(), stage_of(function)
    for n, source in enumerate(["203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.20"]):
        sent = SHAPES[shape](stage, "GET", "/", {"e": event}, headers={"X-Forwarded-For": f"192.0.2.{n}, {source}"})
        context = sent["requestContext"]
        (context["http"] if "http" in context else context["identity"])["sourceIp"] = source
        reply = function.invoke(sent)
        assert reply["statusCode"] == 200, reply
    today = datetime.now(timezone.utc).strftime("%Y%m%d")
    ids = tables.scan(TableName=f"{STAGES[stage]}_counter_ids")["Items"]
    records = [item["Id"]["S"] for item in ids if item["Id"]["S"].startswith(f"v#{today}#{event}#")]
    assert len(records) == 2  # two addresses, whatever the header said


def test_in_chromium_from_another_origin_two_visits_are_one_visitor_and_nothing_is_left_in_the_browser(app, browser):
    log = staged(app)
    with LiveServer(log) as api, LiveServer(PageSite(page(api.url + STAGE))) as site:
        for visits in (1, 2):
            context, tab, errors = visit(browser, site.url)
            wait_until(lambda: totals(app).get("PAGEVIEW") == visits, what=f"visit {visits}'s PAGEVIEW")
            assert context.cookies() == [] and errors == []  # none on the page's origin, none on the API's
            assert tab.evaluate("localStorage.length + sessionStorage.length") == 0
            context.close()
    summary = app.test_client().get("/summary").json
    assert summary["totals"]["PAGEVIEW"] == 2 and summary["visitors"]["PAGEVIEW"] == 1


def test_a_hit_refused_for_a_full_day_adds_no_visitor_with_or_without_an_id(capped):
    app, _ = capped
    hit(app, "FIRST")
    client = app.test_client()
    for query in ({"e": "JUNK"}, {"e": "JUNK", "id": uuid.uuid4().hex}):
        reply = client.get("/", query_string=query, headers={"User-Agent": CHROME})
        assert reply.status_code == 409
    assert seen(app) == {"FIRST": 1}


def test_a_summary_of_366_days_with_visitors_reads_twice_the_items_a_call_at_most_100(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    calls: list[str] = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    reply = moto_app.test_client().get("/summary?from=20250101&to=20260101")
    assert reply.json["visitors"] == {}
    assert calls == ["BatchGetItem"] * 16  # the counts' 8, and the visitors' two items a day


def test_views_and_visitors_fit_a_phone_and_a_range_without_visitors_shows_none(tmp_path, browser):
    clock = Clock()
    app = create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": clock})
    with app.app_context():
        get_store().write_many([(20261028, "NEWSLETTER_SIGNUP", 123_456_789), (TODAY, "NEWSLETTER_SIGNUP", 987_654)])
    assert "Visitors" not in app.test_client().get("/dashboard").get_data(as_text=True)  # imported: no visitors
    for agent in (FIREFOX, CHROME):
        hit(app, "NEWSLETTER_SIGNUP", agent=agent)
    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 375, "height": 800})
        tab = context.new_page()
        tab.goto(server.url + "/dashboard")
        shown = tab.locator("table.totals thead th:visible").all_inner_texts()
        assert shown == ["Event", "Views", "Change", "Visitors", "Change"]
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375
        context.close()


def test_a_send_that_failed_between_its_id_and_its_visitor_is_completed_by_its_retry_only(moto_server, monkeypatch):
    app = dynalite_app(moto_server, monkeypatch)
    with app.app_context():
        store = get_store()
    visit_once = store._visit

    def fails(*args):
        monkeypatch.setattr(store, "_visit", visit_once)
        raise StoreUnavailable("lost on the way", transient=True)

    monkeypatch.setattr(store, "_visit", fails)
    client, key = app.test_client(), uuid.uuid4().hex
    first = client.get("/", query_string={"e": "PAGEVIEW", "id": key}, headers={"User-Agent": FIREFOX})
    assert first.status_code == 503
    other = client.get("/", query_string={"e": "PAGEVIEW", "id": key}, headers={"User-Agent": CHROME})
    assert other.json["duplicate"] is True and seen(app) == {}  # another agent's retry of the id adds no visitor
    retry = client.get("/", query_string={"e": "PAGEVIEW", "id": key}, headers={"User-Agent": FIREFOX})
    assert retry.json["duplicate"] is True and seen(app) == {"PAGEVIEW": 1}
    with app.app_context():
        assert get_store().get([TODAY])[TODAY] == {"PAGEVIEW": 1}


def test_the_salts_table_expires_its_items_and_keeps_no_backup_and_no_stream(moto_server, monkeypatch):
    app = dynalite_app(moto_server, monkeypatch)
    with app.app_context():
        store = get_store()
    table = store.client.describe_table(TableName=store.salts_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "Id", "KeyType": "HASH"}] and "StreamSpecification" not in table
    backups = store.client.describe_continuous_backups(TableName=store.salts_table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    ttl = store.client.describe_time_to_live(TableName=store.salts_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    again = app.test_cli_runner().invoke(args=["create-table"]).output
    assert f"salts in {store.salts_table} already expire through TTL on expires" in again
