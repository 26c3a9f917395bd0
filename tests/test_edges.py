"""Input at the edges: days at the ends of the calendar, and JSON bodies that repeat a key."""

import itertools
import json

import pytest

from tests.conftest import TODAY

FIRST_DAYS = [f"000101{d:02d}" for d in range(1, 32)]
LAST_DAYS = [f"999912{d:02d}" for d in range(1, 32)]
EDGES = ["00010101", "00010129", "00010130", "99991201", "99991231", str(TODAY)]
READS = [("/summary", {}), ("/summary", {"format": "csv"}), ("/dashboard", {})]


@pytest.mark.parametrize("path,query", READS)
@pytest.mark.parametrize("name", ["to", "from"])
def test_a_day_at_either_end_of_the_calendar_alone_is_200_or_400(any_app, path, query, name):
    client = any_app.test_client()
    for day in FIRST_DAYS + LAST_DAYS:
        reply = client.get(path, query_string={**query, name: day})
        assert reply.status_code in (200, 400), (name, day, reply.status_code)


@pytest.mark.parametrize("path,query", READS)
def test_a_default_range_that_would_start_before_00010101_is_400(any_app, path, query):
    client = any_app.test_client()
    for day in ("00010101", "00010115", "00010129"):
        reply = client.get(path, query_string={**query, "to": day})
        assert reply.status_code == 400, day
        if path == "/summary":
            assert reply.json["status"] == "failure" and "00010101" in reply.json["error"]
    # One day later the 30 days fit, and the calendar's first day is a day like any other.
    reply = client.get("/summary", query_string={"to": "00010130"})
    assert reply.status_code == 200 and reply.json["from"] == 10101 and len(reply.json["days"]) == 30


def test_every_range_between_the_edges_is_200_or_400(any_app):
    client = any_app.test_client()
    for first, last in itertools.product(EDGES, repeat=2):
        for path, query in READS:
            reply = client.get(path, query_string={**query, "from": first, "to": last})
            assert reply.status_code in (200, 400), (path, first, last, reply.status_code)
    assert client.get("/summary?from=99991201&to=99991231").json["to"] == 99991231


@pytest.mark.parametrize("group", ["week", "month", ""])
@pytest.mark.parametrize("path", ["/summary", "/dashboard"])
def test_a_range_grouped_at_either_end_of_the_calendar_is_200(app, path, group):
    """9999's last ISO week would end in 10000, and a range over 92 days is grouped by week by default."""
    client = app.test_client()
    for first, last in (("99991201", "99991231"), ("99990901", "99991231"), ("00010101", "00010331")):
        reply = client.get(path, query_string={"from": first, "to": last, "group": group})
        assert reply.status_code == 200, (first, last, group)
    periods = client.get("/summary?from=99991225&to=99991231&group=week").json["periods"]
    assert periods[-1] == {"period": 99991227, "from": 99991227, "to": 99991231, "partial": True, "counts": {},
                           "visitors": {}}


def test_the_dashboards_links_keep_eight_digits_before_year_1000(app):
    html = app.test_client().get("/dashboard?from=09991201&to=09991231").get_data(as_text=True)
    assert "from=09991201&amp;to=09991231" in html and "from=9991201" not in html


@pytest.mark.parametrize(
    "body",
    ['{"e": "A", "e": "B"}', '{"e": "A", "c": "20261127", "c": "20261126"}', '{"e": "A", "x": {"y": 1, "y": 2}}'],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_json_body_that_repeats_a_key_is_400_like_a_repeated_parameter(any_app, body, content_type):
    client = any_app.test_client()
    reply = client.post("/", data=body, content_type=content_type)
    assert reply.status_code == 400
    assert reply.json["status"] == "failure" and "only once" in reply.json["error"]
    assert client.get("/summary").json["totals"] == {}
    assert client.post("/", data=json.dumps({"e": "A", "c": str(TODAY)}), content_type=content_type).status_code == 200
