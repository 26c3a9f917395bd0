"""The summary route on SQLite."""

import pytest

from tests.conftest import TODAY


def seed(client, *hits):
    for event, day in hits:
        assert client.get("/", query_string={"e": event, "c": day}).status_code == 200


def test_default_range_is_30_days_ending_today(client):
    seed(client, ("A", TODAY), ("A", 20261029), ("A", 20261028))
    reply = client.get("/summary").json
    assert reply["from"] == 20261029 and reply["to"] == TODAY
    assert len(reply["days"]) == 30
    assert reply["days"][0] == {"day": 20261029, "counts": {"A": 1}}
    assert reply["days"][-1] == {"day": TODAY, "counts": {"A": 1}}
    assert reply["days"][1] == {"day": 20261030, "counts": {}}
    assert reply["totals"] == {"A": 2}


def test_range_spans_months_and_filters_events(client):
    seed(client, ("A", 20261031), ("B", 20261101), ("B", 20261101), ("C", 20261101))
    reply = client.get("/summary", query_string={"from": 20261031, "to": 20261101, "e": "a,b"}).json
    assert reply == {
        "from": 20261031,
        "to": 20261101,
        "days": [{"day": 20261031, "counts": {"A": 1}}, {"day": 20261101, "counts": {"B": 2}}],
        "totals": {"A": 1, "B": 2},
    }


def test_366_days_allowed_367_refused(client):
    assert len(client.get("/summary?from=20250101&to=20260101").json["days"]) == 366
    reply = client.get("/summary?from=20250101&to=20260102")
    assert reply.status_code == 400
    assert "366" in reply.json["error"]


@pytest.mark.parametrize(
    "query",
    ["from=20261128&to=20261127", "from=2026", "to=20261340", "e=bad name", "format=xml", "from=1&from=2"],
)
def test_bad_summary_query_is_400(client, query):
    reply = client.get(f"/summary?{query}")
    assert reply.status_code == 400
    assert reply.json["status"] == "failure"


def test_csv_by_format_and_by_accept(client):
    seed(client, ("B", 20261126), ("A", 20261126), ("A", TODAY))
    expected = "day,event,count\n20261126,A,1\n20261126,B,1\n20261127,A,1\n"
    by_format = client.get("/summary?format=csv")
    by_accept = client.get("/summary", headers={"Accept": "text/csv"})
    for reply in (by_format, by_accept):
        assert reply.mimetype == "text/csv"
        assert reply.get_data(as_text=True) == expected
    assert client.get("/summary", headers={"Accept": "*/*"}).is_json
