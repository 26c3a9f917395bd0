"""The summary route on SQLite."""

import random

import pytest

from counter_app.store import get_store
from tests.conftest import TODAY


def seed(client, *hits):
    for event, day in hits:
        assert client.get("/", query_string={"e": event, "c": day}).status_code == 200


def test_default_range_is_30_days_ending_today(client):
    seed(client, ("A", TODAY), ("A", 20261029), ("A", 20261028))
    reply = client.get("/summary").json
    assert reply["from"] == 20261029 and reply["to"] == TODAY
    assert len(reply["days"]) == 30
    assert reply["days"][0] == {"day": 20261029, "counts": {"A": 1}, "visitors": {"A": 0}}  # dated by 'c': no visitor
    assert reply["days"][-1] == {"day": TODAY, "counts": {"A": 1}, "visitors": {"A": 1}}
    assert reply["days"][1] == {"day": 20261030, "counts": {}, "visitors": {}}
    assert reply["totals"] == {"A": 2} and reply["visitors"] == {"A": 1}


def test_range_spans_months_and_filters_events(client):
    seed(client, ("A", 20261031), ("B", 20261101), ("B", 20261101), ("C", 20261101))
    reply = client.get("/summary", query_string={"from": 20261031, "to": 20261101, "e": "a,b"}).json
    assert reply == {
        "from": 20261031,
        "to": 20261101,
        "days": [{"day": 20261031, "counts": {"A": 1}, "visitors": {"A": 0}},
                 {"day": 20261101, "counts": {"B": 2}, "visitors": {"B": 0}}],
        "totals": {"A": 1, "B": 2},
        "visitors": {"A": 0, "B": 0},
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
    expected = "day,event,count,visitors\n20261126,A,1,0\n20261126,B,1,0\n20261127,A,1,1\n"
    by_format = client.get("/summary?format=csv")
    by_accept = client.get("/summary", headers={"Accept": "text/csv"})
    for reply in (by_format, by_accept):
        assert reply.mimetype == "text/csv"
        assert reply.get_data(as_text=True) == expected
    assert client.get("/summary", headers={"Accept": "*/*"}).is_json


def test_iso_dates_get_the_same_answer(client):
    seed(client, ("A", 20261101), ("A", 20261102))
    plain = client.get("/summary?from=20261101&to=20261102").json
    assert client.get("/summary?from=2026-11-01&to=2026-11-02").json == plain
    assert client.get("/summary?from=2026-11-01&to=20261102&format=csv").get_data(as_text=True).count("\n") == 3


def test_weeks_are_iso_weeks_labelled_by_their_monday_with_partial_edges(client):
    # 20261101 is a Sunday, 20261102 a Monday; today (20261127) is a Friday.
    seed(client, ("A", 20261101), ("A", 20261102), ("B", 20261108), ("A", 20261109), ("A", TODAY))
    reply = client.get("/summary?from=20261101&to=20261127&group=week").json
    assert reply["group"] == "week" and "days" not in reply
    assert reply["periods"] == [
        {"period": 20261026, "from": 20261101, "to": 20261101, "partial": True, "counts": {"A": 1},
         "visitors": {"A": 0}},
        {"period": 20261102, "from": 20261102, "to": 20261108, "partial": False, "counts": {"A": 1, "B": 1},
         "visitors": {"A": 0, "B": 0}},
        {"period": 20261109, "from": 20261109, "to": 20261115, "partial": False, "counts": {"A": 1},
         "visitors": {"A": 0}},
        {"period": 20261116, "from": 20261116, "to": 20261122, "partial": False, "counts": {}, "visitors": {}},
        {"period": 20261123, "from": 20261123, "to": 20261127, "partial": True, "counts": {"A": 1},
         "visitors": {"A": 1}},
    ]
    assert reply["totals"] == {"A": 4, "B": 1}


def test_a_week_runs_across_the_new_year(client):
    with client.application.app_context():  # older than the window of days that / may count
        get_store().write_many([(20251229, "A", 1), (20260104, "A", 1)])
    periods = client.get("/summary?from=20251229&to=20260104&group=week").json["periods"]
    assert periods == [{"period": 20251229, "from": 20251229, "to": 20260104, "partial": False, "counts": {"A": 2},
                        "visitors": {"A": 0}}]


def test_months_and_the_present_month_is_partial(client):
    with client.application.app_context():
        get_store().write_many([(20260915, "A", 1), (20261031, "A", 1), (20261101, "B", 1)])
    reply = client.get("/summary?from=20260901&to=20261130&group=month").json
    assert [(p["period"], p["from"], p["to"], p["partial"], p["counts"]) for p in reply["periods"]] == [
        (20260901, 20260901, 20260930, False, {"A": 1}),
        (20261001, 20261001, 20261031, False, {"A": 1}),
        (20261101, 20261101, 20261130, True, {"B": 1}),  # holds today: not over yet
    ]


def test_grouped_csv_names_the_period_and_marks_partial_ones(client):
    seed(client, ("B", 20261102), ("A", 20261102), ("A", TODAY))
    reply = client.get("/summary?from=20261102&to=20261127&group=week&format=csv")
    assert reply.mimetype == "text/csv"
    assert reply.get_data(as_text=True) == (
        "week,from,to,partial,event,count,visitors\n"
        "20261102,20261102,20261108,false,A,1,0\n"
        "20261102,20261102,20261108,false,B,1,0\n"
        "20261123,20261123,20261127,true,A,1,1\n"
    )
    month = client.get("/summary?from=20261102&to=20261127&group=month", headers={"Accept": "text/csv"})
    assert month.get_data(as_text=True).splitlines() == [
        "month,from,to,partial,event,count,visitors",
        "20261101,20261102,20261127,true,A,2,1",
        "20261101,20261102,20261127,true,B,1,0",
    ]


def test_day_group_is_the_plain_summary(client):
    seed(client, ("A", 20261101))
    plain = client.get("/summary?from=20261101&to=20261102")
    assert client.get("/summary?from=20261101&to=20261102&group=day").json == plain.json
    assert client.get("/summary?from=20261101&to=20261102&group=").json == plain.json


@pytest.mark.parametrize("query", ["group=year", "group=WEEK", "group=week&group=day"])
def test_bad_group_is_400(client, query):
    reply = client.get(f"/summary?{query}")
    assert reply.status_code == 400 and "group" in reply.json["error"]


@pytest.mark.parametrize("first,last", [("20251127", "20261127"), ("20240101", "20241231"),
                                        ("20261130", "20261130")])
def test_weeks_and_months_add_up_to_the_days(client, first, last):
    rng = random.Random(int(first))
    day_list = client.get(f"/summary?from={first}&to={last}").json["days"]
    with client.application.app_context():
        get_store().write_many([(row["day"], event, rng.randint(0, 10**12))
                                for row in day_list for event in rng.sample("ABCDEFG", rng.randint(0, 4))])
    days = client.get(f"/summary?from={first}&to={last}").json
    by_day = {(row["day"], e): n for row in days["days"] for e, n in row["counts"].items()}
    assert days["totals"] and sum(by_day.values()) == sum(days["totals"].values())
    for group in ("week", "month"):
        grouped = client.get(f"/summary?from={first}&to={last}&group={group}").json
        assert grouped["totals"] == days["totals"]
        summed: dict = {}
        for period in grouped["periods"]:
            for event, count in period["counts"].items():
                summed[event] = summed.get(event, 0) + count
        assert summed == days["totals"]
        # The periods cover each day of the range once, in order.
        covered = [(p["from"], p["to"]) for p in grouped["periods"]]
        assert covered[0][0] == days["from"] and covered[-1][1] == days["to"]
        csv = client.get(f"/summary?from={first}&to={last}&group={group}&format=csv").get_data(as_text=True)
        from_csv: dict = {}
        for line in csv.splitlines()[1:]:
            *_, event, count, _visitors = line.split(",")
            from_csv[event] = from_csv.get(event, 0) + int(count)
        assert from_csv == days["totals"]
