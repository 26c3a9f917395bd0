"""Idempotent increments: an ``id`` is applied once within its window, on SQLite and on DynamoDB (moto)."""

import json
import sqlite3
import uuid
from datetime import timedelta

import pytest

from counter_app import create_app
from counter_app.store import get_store
from tests.conftest import NOW, aggregated, dynalite_app, on_stream, shown

KEY = "3f2b8c1e-7d4a-4e0b-9c2f-5a6b7c8d9e0f"
TOKEN = "s3cret-read-token"


def totals(app):
    return aggregated(app).test_client().get("/summary", headers={"Authorization": f"Bearer {TOKEN}"}).json["totals"]


def test_a_repeated_id_is_answered_as_a_duplicate_with_the_current_count(once_app):
    client = once_app.test_client()
    first = client.get("/", query_string={"e": "PAGEVIEW", "id": KEY})
    assert first.status_code == 200 and first.json == {
        "status": "success", "eventkey": "PAGEVIEW", "day": 20261127, **shown(once_app, 1)}
    client.get("/?e=PAGEVIEW")  # a plain increment in between
    again = client.get("/", query_string={"e": "PAGEVIEW", "id": KEY})
    assert again.status_code == 200 and again.json == {
        "status": "success", "eventkey": "PAGEVIEW", "day": 20261127, **shown(once_app, 2), "duplicate": True}
    assert totals(once_app) == {"PAGEVIEW": 2}


@pytest.mark.parametrize(
    "send",
    [
        lambda client, key: client.get("/", query_string={"e": "A", "id": key}),
        lambda client, key: client.post("/", query_string={"id": key}, data={"e": "A"}),
        lambda client, key: client.post("/", json={"e": "A", "id": key}),
        lambda client, key: client.post("/", data=f"e=A&id={key}", content_type="text/plain"),
        lambda client, key: client.post("/", data=json.dumps({"e": "A", "id": key}), content_type="text/plain"),
        lambda client, key: client.get("/mark.gif", query_string={"e": "A", "id": key}),
        lambda client, key: client.get("/pixel.gif", query_string={"e": "A", "id": key}),
    ],
    ids=["query", "form", "json", "beacon-query", "beacon-json", "mark.gif", "pixel.gif"],
)
def test_every_counting_route_and_framing_takes_an_id(once_app, send):
    client = once_app.test_client()
    keys = [uuid.uuid4().hex, uuid.uuid4().hex]
    replies = [send(client, key) for key in (keys[0], keys[0], keys[1], keys[0])]
    assert [reply.status_code for reply in replies] == [200] * 4
    if replies[0].mimetype == "application/json":
        assert [reply.json.get("duplicate", False) for reply in replies] == [False, True, False, True]
        assert [reply.json.get("count") for reply in replies] == [None] * 4 if on_stream(once_app) else [1, 1, 2, 2]
    else:
        assert {reply.mimetype for reply in replies} == {"image/gif"}
    assert totals(once_app) == {"A": 2}


@pytest.mark.parametrize(
    "query",
    [{"id": "x" * 15}, {"id": "x" * 65}, {"id": "a b c d e f g h i"}, {"id": "é" * 16}, {"id": "a" * 15 + "\n"},
     {"id": "abcdefghijklmnop+"}, {"id": ""}, {"id": ["a" * 16, "b" * 16]}],
    ids=["short", "long", "blanks", "non-ascii", "newline", "plus", "empty", "twice"],
)
def test_a_bad_id_is_a_400_and_counts_nothing(once_app, query):
    client = once_app.test_client()
    reply = client.get("/", query_string={"e": "A", **query})
    assert reply.status_code == 400 and reply.json["status"] == "failure"
    assert "'id'" in reply.json["error"]
    assert client.get("/pixel.gif", query_string={"e": "A", **query}).status_code == 400
    assert totals(once_app) == {}


def test_an_id_in_the_query_and_the_body_is_given_twice(once_app):
    client = once_app.test_client()
    reply = client.post("/", query_string={"id": KEY}, json={"e": "A", "id": KEY})
    assert reply.status_code == 400 and reply.json["error"] == "Give 'id' only once."
    assert client.post("/", json={"e": "A", "id": 1234567890123456789}).status_code == 400
    assert totals(once_app) == {}


def test_lengths_16_and_64_and_every_allowed_character_count(once_app):
    client = once_app.test_client()
    for key in ("a" * 16, "Z9_-" * 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"[:64]):
        assert client.get("/", query_string={"e": "A", "id": key}).json.get("duplicate") is None
    assert totals(once_app) == {"A": 3}


def test_ids_are_compared_exactly(once_app):
    client = once_app.test_client()
    for key in ("abcdefghijklmnop", "ABCDEFGHIJKLMNOP", "abcdefghijklmnop_"):
        assert "duplicate" not in client.get("/", query_string={"e": "A", "id": key}).json
    assert totals(once_app) == {"A": 3}


def test_after_the_window_the_same_id_counts_again(tmp_path, request, monkeypatch):
    for store in ("sqlite", "transaction", "stream"):
        clock = [NOW]
        config = {"CLOCK": lambda: clock[0], "IDEMPOTENCY_HOURS": 2}
        if store == "sqlite":
            app = create_app({"STORE": f"sqlite:///{tmp_path}/w.sqlite3", **config})
        else:
            app = dynalite_app(request.getfixturevalue("moto_server"), monkeypatch, IDEMPOTENT_WRITES=store, **config)
        client = app.test_client()
        seen = []
        for hours in (0, 1, 1.99, 2, 3, 3.5, 4):
            clock[0] = NOW + timedelta(hours=hours)
            seen.append(client.get("/", query_string={"e": "A", "id": KEY}).json.get("duplicate", False))
        # Counted at 0 h, remembered until 2 h; counted at 2 h, remembered until 4 h; counted at 4 h.
        assert seen == [False, True, True, False, True, True, False], store
        assert totals(app) == {"A": 3}, store


def test_a_duplicate_needs_no_free_name_slot_on_a_full_day(once_app):
    once_app.config["MAX_EVENTS_PER_DAY"] = 1
    client = once_app.test_client()
    assert client.get("/", query_string={"e": "FIRST", "id": KEY}).status_code == 200
    refused = client.get("/", query_string={"e": "SECOND", "id": "second-increment-id"})
    assert refused.status_code == 409
    # A retry of the first increment's id, even one that names an unknown event, is a duplicate, not a 409:
    # on DynamoDB this process saw the day full and refuses SECOND with no call, so it reads the id.
    again = client.get("/", query_string={"e": "SECOND", "id": KEY})
    assert again.status_code == 200 and again.json["duplicate"] is True and again.json.get("count") == shown(
        once_app, 0).get("count")
    assert aggregated(once_app).test_client().get("/", query_string={"e": "FIRST", "id": KEY}).json == {
        "status": "success", "eventkey": "FIRST", "day": 20261127, **shown(once_app, 1), "duplicate": True}
    # The refused increment recorded no id: once there is room, the same id counts.
    once_app.config["MAX_EVENTS_PER_DAY"] = 2
    assert "duplicate" not in client.get("/", query_string={"e": "SECOND", "id": "second-increment-id"}).json
    assert totals(once_app) == {"FIRST": 1, "SECOND": 1}


def test_a_counter_at_its_limit_records_no_id(once_app):
    with once_app.app_context():
        get_store().set(20261127, "FULL", 2**63 - 1)
    client = once_app.test_client()
    assert client.get("/", query_string={"e": "FULL", "id": KEY}).status_code == 409
    with once_app.app_context():
        get_store().set(20261127, "FULL", 5)
    assert client.get("/", query_string={"e": "FULL", "id": KEY}).json == {
        "status": "success", "eventkey": "FULL", "day": 20261127, **shown(once_app, 6)}
    assert totals(once_app) == {"FULL": 6}


def test_without_the_read_token_a_duplicate_shows_no_count(once_app):
    once_app.config["READ_TOKEN"] = TOKEN
    client = once_app.test_client()
    for duplicate in (False, True):
        reply = client.get("/", query_string={"e": "A", "id": KEY})
        assert reply.json == {"status": "success", "eventkey": "A", "day": 20261127,
                              **({"duplicate": True} if duplicate else {})}
        with_token = client.get("/", query_string={"e": "A", "id": KEY}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert with_token.json.get("count") == shown(once_app, 1).get("count") and with_token.json["duplicate"] is True
    assert totals(once_app) == {"A": 1}


def test_bots_and_prefetches_with_an_id_record_nothing(once_app):
    client = once_app.test_client()
    bot = client.get("/", query_string={"e": "A", "id": KEY}, headers={"User-Agent": "Googlebot/2.1"})
    assert bot.json == {"status": "success", "eventkey": "A", "day": 20261127, "counted": False}
    assert client.head("/", query_string={"e": "A", "id": KEY}).status_code == 200
    assert "duplicate" not in client.get("/", query_string={"e": "A", "id": KEY}).json
    assert totals(once_app) == {"A": 1}


def test_export_leaves_ids_out(once_app):
    client = once_app.test_client()
    client.get("/", query_string={"e": "A", "id": KEY})
    client.get("/", query_string={"e": "A", "id": KEY})
    client.get("/?e=B")
    result = aggregated(once_app).test_cli_runner().invoke(args=["export"])
    assert result.exit_code == 0
    seen = 0 if once_app.config["IDEMPOTENT_WRITES"] == "transaction" and not on_stream(once_app) and \
        once_app.config["STORE"].startswith("dynamodb") else 1  # DynamoDB's visitors wait for the aggregator
    assert result.stdout == f"day,event,count,visitors\n20261127,A,1,{seen}\n20261127,B,1,{seen}\n"
    with once_app.app_context():
        assert dict(get_store().dump()) == {20261127: {"A": 1, "B": 1}}


def test_sqlite_keeps_ids_in_a_table_of_their_own_and_purges_expired_ones_once_an_hour(tmp_path, monkeypatch):
    clock = [NOW]
    path = tmp_path / "ids.sqlite3"
    app = create_app({"STORE": f"sqlite:///{path}", "CLOCK": lambda: clock[0], "IDEMPOTENCY_HOURS": 1})
    client = app.test_client()
    client.get("/?e=PLAIN")

    def ids():
        return [row[0] for row in sqlite3.connect(path).execute("SELECT id FROM TEST_counter_ids ORDER BY id")]

    assert ids() == []  # a plain increment records nothing
    for n in range(3):
        client.get("/", query_string={"e": "A", "id": f"early-increment-{n}"})
    assert ids() == [f"early-increment-{n}" for n in range(3)]
    clock[0] = NOW + timedelta(hours=2)  # the early ids expired
    client.get("/", query_string={"e": "A", "id": "later-increment-0"})
    assert len(ids()) == 4  # no purge: the process purged at its first idempotent increment, the next is due in an hour
    with app.app_context():
        get_store()._purge_due = 0  # as if an hour had passed
    client.get("/", query_string={"e": "A", "id": "later-increment-1"})
    assert ids() == ["later-increment-0", "later-increment-1"]
    assert totals(app) == {"PLAIN": 1, "A": 5}
