"""The increment route through Flask's test client, on SQLite."""

import pytest

from tests.conftest import TODAY


def total(client, event="PAGEVIEW", day=TODAY):
    reply = client.get("/summary", query_string={"from": day, "to": day})
    return reply.json["totals"].get(event, 0)


def test_get_counts_and_returns_new_value(client):
    first = client.get("/", query_string={"e": "pageview"})
    second = client.get("/", query_string={"e": "PAGEVIEW"})
    assert first.status_code == 200
    assert first.json == {"status": "success", "eventkey": "PAGEVIEW", "day": TODAY, "count": 1}
    assert second.json["count"] == 2
    assert first.headers["Cache-Control"] == "no-store"


def test_name_is_trimmed_and_upper_cased(client):
    assert client.get("/", query_string={"e": "  sign-up.v2:a/b_c \t"}).json["eventkey"] == "SIGN-UP.V2:A/B_C"


def test_day_override(client):
    client.application.config["BACKDATE_DAYS"] = 1100  # 2024-02-29 is older than the default window
    reply = client.get("/", query_string={"e": "click", "c": "20240229"})
    assert reply.json["day"] == 20240229
    assert total(client, "CLICK", 20240229) == 1
    assert total(client, "CLICK") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"e": "form"}},
        {"json": {"e": "form"}},
        {"data": "e=form", "content_type": "text/plain;charset=UTF-8"},
        {"data": '{"e": "form"}', "content_type": "text/plain"},
    ],
    ids=["form", "json", "text-query", "text-json"],
)
def test_post_bodies(client, body):
    reply = client.post("/", **body)
    assert reply.status_code == 200, reply.json
    assert reply.json["eventkey"] == "FORM"
    assert total(client, "FORM") == 1


def test_iso_day_gets_the_same_answer(client):
    dashed = client.get("/", query_string={"e": "iso", "c": "2026-11-01"})
    plain = client.get("/", query_string={"e": "iso", "c": "20261101"})
    assert dashed.json | {"count": 0} == plain.json | {"count": 0} == {
        "status": "success", "eventkey": "ISO", "day": 20261101, "count": 0}
    assert (dashed.json["count"], plain.json["count"]) == (1, 2)
    assert client.post("/", json={"e": "iso", "c": "2026-11-01"}).json["count"] == 3


def test_post_json_with_day(client):
    assert client.post("/", json={"e": "x", "c": 20261101}).json["day"] == 20261101
    assert client.post("/", json={"e": "x", "c": "20261102"}).json["day"] == 20261102


BAD = [
    ({}, "Missing 'e'"),
    ({"e": ""}, "event name"),
    ({"e": "   "}, "event name"),
    ({"e": "a" * 65}, "event name"),
    ({"e": "page view"}, "event name"),
    ({"e": "straße"}, "event name"),
    ({"e": "ıd"}, "event name"),
    ({"e": "#e"}, "event name"),
    ({"e": "X SET Y = :v"}, "event name"),
    ({"e": "a\x00b"}, "event name"),
    ({"e": "x", "c": "2026112"}, "YYYYMMDD"),
    ({"e": "x", "c": "202611270"}, "YYYYMMDD"),
    ({"e": "x", "c": "２０２６１１２７"}, "YYYYMMDD"),
    ({"e": "x", "c": "20261131"}, "real calendar date"),
    ({"e": "x", "c": "20230229"}, "real calendar date"),
    ({"e": "x", "c": "00001127"}, "real calendar date"),
    ({"e": "x", "c": " 20261127"}, "YYYYMMDD"),
    ({"e": "x", "c": "2026-1127"}, "YYYY-MM-DD"),
    ({"e": "x", "c": "2026-11-1"}, "YYYY-MM-DD"),
    ({"e": "x", "c": "2026/11/27"}, "YYYY-MM-DD"),
    ({"e": "x", "c": "2026-02-29"}, "real calendar date"),
]


@pytest.mark.parametrize("query,message", BAD)
def test_bad_query_is_400_and_counts_nothing(client, query, message):
    reply = client.get("/", query_string=query)
    assert reply.status_code == 400
    assert reply.json["status"] == "failure"
    assert message in reply.json["error"]
    assert client.get("/summary", query_string={"from": 20261001, "to": 20261130}).json["totals"] == {}


@pytest.mark.parametrize(
    "body,message",
    [
        ({"e": 5}, "must be a string"),
        ({"e": None}, "must be a string"),
        ({"e": ["A"]}, "must be a string"),
        ({"e": {"x": 1}}, "must be a string"),
        ({"e": True}, "must be a string"),
        ({"e": "x", "c": True}, "must be a string"),
        ({"e": "x", "c": 2026.5}, "must be a string"),
        ({"e": "x", "c": [20261127]}, "must be a string"),
    ],
)
def test_json_field_of_wrong_type_is_400(client, body, message):
    reply = client.post("/", json=body)
    assert reply.status_code == 400
    assert message in reply.json["error"]
    assert client.get("/summary").json["totals"] == {}


@pytest.mark.parametrize("body", ["[1]", '"e"', "3", "null", "{not json"])
def test_json_body_that_is_not_an_object_is_400(client, body):
    reply = client.post("/", data=body, content_type="application/json")
    assert reply.status_code == 400
    assert reply.json["status"] == "failure"


def test_repeated_parameter_is_400(client):
    assert client.get("/?e=A&e=B").status_code == 400
    assert client.post("/?e=A", data={"e": "B"}).status_code == 400
    assert client.get("/summary").json["totals"] == {}


def test_unsupported_body_type_is_415(client):
    reply = client.post("/", data=b"<e>x</e>", content_type="application/xml")
    assert reply.status_code == 415
    assert reply.json["status"] == "failure"


def test_oversized_body_is_413_json(client):
    reply = client.post("/", data={"e": "x", "pad": "x" * 20000})
    assert reply.status_code == 413
    assert reply.json["status"] == "failure"


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405_json(client, method):
    reply = getattr(client, method)("/", query_string={"e": "x"})
    assert reply.status_code == 405
    assert reply.json["status"] == "failure"
    assert "GET" in reply.headers["Allow"]


def test_unknown_route_is_404_json(client):
    reply = client.get("/nope")
    assert reply.status_code == 404
    assert reply.is_json


def test_timezone_decides_today(tmp_path):
    from datetime import datetime, timezone

    from counter_app import create_app

    late = datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc)
    app = create_app({"STORE": f"sqlite:///{tmp_path}/tz.sqlite3", "TIMEZONE": "Europe/Berlin", "CLOCK": lambda: late})
    assert app.test_client().get("/?e=x").json["day"] == 20261128


def test_healthz(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {"status": "ok"}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deeply_nested_json_body_is_400(client, content_type):
    reply = client.post("/", data='{"e":' + "[" * 5_000 + "]" * 5_000 + "}", content_type=content_type)
    assert reply.status_code == 400
    assert reply.json["error"] == "The body is not valid JSON."
    assert client.get("/summary").json["totals"] == {}
