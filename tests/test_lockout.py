"""Issue 10 §5 on DynamoDB (dynalite): junk fills a day's slots, yet established names count at most 4 WCU a write."""

import uuid
from datetime import datetime, timezone

import pytest

from counter_app.storage.dynamodb_aggregate import EVENTS_PER_ITEM
from counter_app.storage.placement import DAY_ITEM_BYTES, NEWCOMERS_BYTES, VIEWS, View, Views, establish, size
from counter_app.store import get_store
from tests.capacity import Meter, item_bytes, write_units
from tests.conftest import NOW, TODAY, dynalite_app
from tests.streams import shard_records

YESTERDAY = 20261126
REAL = ["PAGEVIEW", "SIGNUP", "CHECKOUT", "DOWNLOAD"]
JUNK = [f"{n:03d}" + "J" * 61 for n in range(400)]  # 64 characters each, the longest a name may be


def hit(client, event, day=TODAY, key=None):
    return client.get("/", query_string={"e": event, "c": day, **({"id": key} if key else {})})


def store_of(app):
    with app.app_context():
        return get_store()


def item(app, key):
    store = store_of(app)
    reply = store.client.get_item(TableName=store.table, Key={"Day": {"N": str(key)}}, ConsistentRead=True)
    return reply.get("Item", {})


@pytest.fixture
def week(dynalite, monkeypatch):
    """An app whose real events were counted yesterday, with a meter on its DynamoDB client."""
    app = dynalite_app(dynalite, monkeypatch)
    client = app.test_client()
    for n, event in enumerate(REAL):
        for _ in range(n + 2):
            assert hit(client, event, YESTERDAY).status_code == 200
    return app, client, Meter().attach(store_of(app).client)


def junk_fill(client, slots=200, tries=250):
    """What issue 10 found: junk names until the day's slots are gone, and some more."""
    codes = [hit(client, name).status_code for name in JUNK[:tries]]
    assert codes == [200] * slots + [409] * (tries - slots)


def test_junk_cannot_raise_what_an_established_name_costs(week):
    app, client, meter = week
    for event in REAL:
        hit(client, event)
    meter.clear()
    assert [hit(client, "PAGEVIEW").status_code for _ in range(5)] == [200] * 5
    before, day_before = meter.units(), item_bytes(item(app, TODAY))
    junk_fill(client)
    meter.clear()
    assert [hit(client, "PAGEVIEW").json["count"] for _ in range(5)] == [7, 8, 9, 10, 11]
    assert [name for name, _ in meter.calls] == ["UpdateItem"] * 5  # one call each
    after, day_after = meter.units(), item_bytes(item(app, TODAY))
    assert before == after == [write_units(day_after)] * 5 == [1.0] * 5
    assert day_before == day_after < 1024
    # The junk lives beside the day, in its newcomers item, which established names never touch.
    assert item_bytes(item(app, -TODAY)) > 13_000


def test_refusing_junk_once_the_day_is_full_makes_no_call(week):
    app, client, meter = week
    junk_fill(client)
    meter.clear()
    assert [hit(client, name).status_code for name in JUNK[250:]] == [409] * 150
    assert meter.calls == []
    # Junk the day took keeps counting in its newcomers item.
    assert hit(client, JUNK[0]).json["count"] == 2


@pytest.mark.parametrize(("visitors", "calls"), [
    # A failed conditional write to the day item (which DynamoDB bills at its size, at most 4 WCU),
    # then the day and its week in one BatchGetItem; nothing for the other nine.
    (False, ["UpdateItem", "BatchGetItem"]),
    # With visitors the name is admitted before its visitor is put: the day's salt (read once a day),
    # then the same BatchGetItem refuses it, with no write at all.
    (True, ["GetItem", "BatchGetItem"]),
])
def test_a_new_process_refuses_junk_after_one_write_and_one_read(week, dynalite, monkeypatch, visitors, calls):
    app, client, _ = week
    junk_fill(client)
    cold = dynalite_app(dynalite, monkeypatch, TABLE_PREFIX=app.config["TABLE_PREFIX"], VISITORS=visitors)
    meter = Meter().attach(store_of(cold).client)
    assert [hit(cold.test_client(), name).status_code for name in JUNK[250:260]] == [409] * 10
    assert [name for name, _ in meter.calls] == calls
    assert write_units(item_bytes(item(app, TODAY))) <= 4


def test_a_cold_start_counts_an_established_name_with_one_write_and_no_read(week, dynalite, monkeypatch):
    app, client, _ = week
    assert hit(client, "SIGNUP").status_code == 200
    # The count's own cost: visitors add the day's salt, admission's read and the visitor's record (bench/visitors.py).
    cold = dynalite_app(dynalite, monkeypatch, TABLE_PREFIX=app.config["TABLE_PREFIX"], VISITORS=False)
    meter = Meter().attach(store_of(cold).client)
    assert hit(cold.test_client(), "SIGNUP").json["count"] == 2
    assert [name for name, _ in meter.calls] == ["UpdateItem"]


def test_the_day_item_stays_under_4_kb_when_the_week_knew_more_than_fits(week):
    """Known junk (counted yesterday) fills the day item only up to its budget; the rest counts beside it."""
    app, client, meter = week
    for name in JUNK[:100]:
        hit(client, name, YESTERDAY)
    for name in REAL + JUNK[:100]:
        assert hit(client, name).json["count"] == 1
    day = item(app, TODAY)
    assert set(REAL) <= set(day)  # counted more than the junk: first in line
    placed = [name for name in day if name not in ("Day", "bytes")]
    assert int(day["bytes"]["N"]) == sum(map(size, placed)) <= DAY_ITEM_BYTES < sum(map(size, placed)) + size(JUNK[0])
    assert item_bytes(day) <= 4096
    assert sum(name in item(app, -TODAY) for name in JUNK[:100]) == 100 - (len(placed) - len(REAL))
    meter.clear()
    hit(client, "PAGEVIEW")
    assert meter.units() == [write_units(item_bytes(day))] == [4.0]
    # The known names beyond the budget took no slot: they count on a day whose slots are gone.
    app.config["MAX_EVENTS_PER_DAY"] = 1
    assert [hit(client, name).status_code for name in ("NEW1", "NEW2")] == [200, 409]
    assert {hit(client, name).json["count"] for name in JUNK[:100]} == {2}


def test_a_name_that_out_counts_the_real_ones_for_a_week_takes_their_place():
    real = {"PAGEVIEW": 50, "SIGNUP": 3}
    assert establish(real) == set(real)
    outcounted = {name: 4 for name in JUNK[:100]}
    chosen = establish(real | outcounted)
    assert "PAGEVIEW" in chosen and "SIGNUP" not in chosen
    assert sum(size(name) for name in chosen) <= DAY_ITEM_BYTES
    assert establish({"B": 1, "A": 1}, budget=size("A")) == {"A"}  # a tie goes by name


def test_a_long_attack_cannot_make_a_newcomers_write_cost_more_than_32_wcu(dynalite, monkeypatch):
    """Junk known from earlier days takes no slot, but the newcomers item's bytes still run out."""
    app = dynalite_app(dynalite, monkeypatch, MAX_EVENTS_PER_DAY=1000)
    client = app.test_client()
    junk = [f"{n:03d}" + "K" * 61 for n in range(600)]
    with app.app_context():  # a week of attacks: all of these are known today
        get_store().write_many([(YESTERDAY, name, 1) for name in junk])
    meter = Meter().attach(store_of(app).client)
    codes = [hit(client, name).status_code for name in junk]
    fits = DAY_ITEM_BYTES // size(junk[0]) + NEWCOMERS_BYTES // size(junk[0])  # the day item's share, then the rest
    assert codes == [200] * fits + [409] * (len(junk) - fits)
    newcomers = item(app, -TODAY)
    assert int(newcomers["bytes"]["N"]) <= NEWCOMERS_BYTES
    # Each first count also claims the name's room in tomorrow's newcomers item, which stays as small.
    tomorrow = item(app, -(TODAY + 1))
    assert int(tomorrow["bytes"]["N"]) <= NEWCOMERS_BYTES
    assert max(meter.units()) <= max(write_units(item_bytes(newcomers)), write_units(item_bytes(tomorrow))) <= 32
    meter.clear()
    assert [hit(client, name).status_code for name in junk[fits:]] == [409] * (len(junk) - fits)
    assert meter.calls == []  # a name that cannot get in is refused with no call
    assert hit(client, junk[-fits]).json["count"] == 2  # what got in keeps counting


def test_views_are_few_and_fresh(monkeypatch):
    views = Views()
    made = [views.put(day, View(0.0, frozenset(), frozenset(), set(), set(), 0, 0)) for day in range(VIEWS + 5)]
    assert views.get(0) is None  # dropped: least recently used
    clock = [1000.0]
    monkeypatch.setattr("counter_app.storage.placement.time.monotonic", lambda: clock[0])
    fresh = views.put(1, View(clock[0], frozenset(), frozenset(), set(), set(), 0, 0))
    assert views.get(1) is fresh and made
    clock[0] += 61
    assert views.get(1) is None  # older than a minute: loaded again when needed


WEEK = [20261120, 20261121, 20261122, 20261123, 20261124, 20261125, 20261126]  # the 7 days before TODAY


@pytest.mark.parametrize("ids", [False, True], ids=["plain", "stream"])
def test_a_name_counted_every_day_keeps_room_whatever_the_attacker_made_known(request, monkeypatch, ids):
    """Issue 19 §10: out-count a real name in the week's top list, then fill the day with junk it made known.

    With ids (on moto, which streams the ids table), admission places and claims as a plain hit does, and the
    aggregator adds the week's counts up before the day is read.
    """
    server = request.getfixturevalue("moto_server" if ids else "dynalite")
    app = dynalite_app(server, monkeypatch)
    hit_ = (lambda client, event, day=TODAY: hit(client, event, day, key=uuid.uuid4().hex)) if ids else hit
    client = app.test_client()
    for day in WEEK:  # the site: 3 a day for 7 days, 21 in the week
        assert [hit_(client, "LK2REAL", day).status_code for _ in range(3)] == [200] * 3
    # 54 names counted 22 times each on one day of the week rank above it and fill the day item's budget.
    toppers = [f"T{n:02d}" + "T" * 61 for n in range(53)] + ["TOPPER_FILL"]
    assert sum(map(size, toppers[:53])) + size("TOPPER_FILL") > DAY_ITEM_BYTES - size("LK2REAL")
    for name in toppers:
        assert {hit_(client, name, WEEK[-2]).status_code for _ in range(22)} == {200}
    if ids:
        aggregate_all(app)
    prefix = app.config["TABLE_PREFIX"]
    with dynalite_app(server, monkeypatch, TABLE_PREFIX=prefix).app_context():
        view = get_store()._load(TODAY)
    assert "LK2REAL" not in view.established and set(toppers) <= view.established
    # Then 200 junk names a day, backdated, are known today and need no slot: they fill the newcomers item.
    # A last one of 39 characters takes the 50 bytes that 426 names of 75 leave: not even a short name fits.
    junk = [f"{n:04d}" + "Q" * 60 for n in range(600)] + ["F" * 39]
    assert NEWCOMERS_BYTES - (NEWCOMERS_BYTES // size(junk[0])) * size(junk[0]) == size(junk[-1])
    for n, day in enumerate(WEEK[2:6]):
        assert {hit_(client, name, day).status_code for name in junk[200 * n : 200 * (n + 1)]} == {200}
    if ids:
        aggregate_all(app)
    attacker = dynalite_app(server, monkeypatch, TABLE_PREFIX=prefix).test_client()
    codes = [hit_(attacker, name).status_code for name in junk]
    assert codes == [200] * 426 + [409] * 174 + [200]  # known junk needs no slot, only room
    assert int(item(app, -TODAY)["bytes"]["N"]) == NEWCOMERS_BYTES
    for process in (attacker, dynalite_app(server, monkeypatch, TABLE_PREFIX=prefix).test_client()):
        assert [hit_(process, "LK2REAL").status_code for _ in range(3)] == [200] * 3
    assert hit_(attacker, toppers[0]).status_code == 200
    # Tomorrow has not begun: it takes the name counted today, which claimed its room there, and no junk.
    assert [hit_(attacker, name, TODAY + 1).status_code for name in ("LK2REAL", junk[500])] == [200, 409]
    if ids:
        aggregate_all(app)
    assert client.get("/summary", query_string={"from": TODAY, "to": TODAY}).json["totals"]["LK2REAL"] == 6


def aggregate_all(app):
    """Apply every record of the ids stream, as the aggregator would, in batches small enough for one transaction."""
    store = store_of(app)
    shard, records = shard_records(store)
    for start in range(0, len(records), EVENTS_PER_ITEM):
        store.aggregate(shard, records[start : start + EVENTS_PER_ITEM])


def test_junk_kept_known_day_after_day_never_takes_the_room_of_a_name_counted_every_day(dynalite, monkeypatch):
    """Issue 19 §10: 200 new junk names a day, all the old ones counted again, tomorrow filled in advance."""
    prefix = dynalite_app(dynalite, monkeypatch).config["TABLE_PREFIX"]
    junk = [f"{n:04d}" + "D" * 60 for n in range(600)]
    days = [(20261125, datetime(2026, 11, 25, 12, tzinfo=timezone.utc)),
            (20261126, datetime(2026, 11, 26, 12, tzinfo=timezone.utc)),
            (20261127, NOW)]
    for n, (day, now) in enumerate(days):
        client = dynalite_app(dynalite, monkeypatch, TABLE_PREFIX=prefix, CLOCK=lambda now=now: now).test_client()
        if n == 0:  # the site was there before the attack
            assert hit(client, "REAL", day).status_code == 200
        live = junk[: 200 * (n + 1)]  # yesterday's junk is known today: it needs no slot, only room
        codes = [hit(client, name, day).status_code for name in live]
        tomorrow = [hit(client, f"EARLY{n}{k:02d}", day + 1).status_code for k in range(50)]
        assert tomorrow == [409] * 50  # a day that has not begun takes no new name, junk or not
        assert [hit(client, "REAL", day).status_code for _ in range(3)] == [200] * 3
    # The third day: 599 junk names known or in a slot; as many as fit counted (53 in the day item, where they
    # out-rank REAL by name, and 426 in the newcomers item beside REAL's claim), the rest refused.
    fits = DAY_ITEM_BYTES // size(junk[0]) + (NEWCOMERS_BYTES - size("REAL")) // size(junk[0])
    assert codes.count(200) == fits and codes.count(409) == 600 - fits > 100


def test_with_an_allowlist_a_probe_cannot_tell_a_used_name_from_an_unused_one(dynalite, monkeypatch):
    """Issue 19 §11: without the token, 200 or 409 on a full day (or tomorrow) told which names were counted."""
    token = "s3cret-read-token"
    open_app = dynalite_app(dynalite, monkeypatch, READ_TOKEN=token)
    probe = open_app.test_client()
    assert hit(probe, "USED").status_code == 200
    # No allowlist: tomorrow takes the name counted today and refuses the other one: the oracle abuse.md states.
    assert [hit(probe, name, TODAY + 1).status_code for name in ("USED", "UNUSED")] == [200, 409]
    listed = dynalite_app(dynalite, monkeypatch, READ_TOKEN=token, EVENTS="USED,UNUSED,OTHER")
    probe = listed.test_client()
    assert hit(probe, "OTHER").status_code == 200
    for day in (TODAY, TODAY + 1):
        assert [hit(probe, name, day).status_code for name in ("USED", "UNUSED")] == [200, 200]
        assert [hit(probe, name, day).status_code for name in ("SECRET_ACQUISITION_TARGET", "JUNK")] == [422, 422]
        assert "count" not in hit(probe, "USED", day).json


def test_tomorrow_takes_a_name_as_soon_as_it_is_first_counted_today(dynalite, monkeypatch):
    """A process that refused a name on tomorrow reads the day again (at most once a second) before refusing it."""
    app = dynalite_app(dynalite, monkeypatch)
    client = app.test_client()
    assert hit(client, "LATE", TODAY + 1).status_code == 409
    other = dynalite_app(dynalite, monkeypatch, TABLE_PREFIX=app.config["TABLE_PREFIX"]).test_client()
    assert hit(other, "LATE").status_code == 200  # another process counts it today: it claims tomorrow
    with app.app_context():
        get_store()._views.get(TODAY + 1).loaded -= 2  # the refusing process's view is two seconds old
    assert hit(client, "LATE", TODAY + 1).json["count"] == 1
