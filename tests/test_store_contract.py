"""One contract, run against every store: SQLite and DynamoDB (dynalite)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from counter_app.storage import TooManyEvents
from counter_app.store import get_store
from tests.conftest import TODAY

RESERVED = ["DATE", "COUNT", "VIEW", "USER", "NAME", "STATUS", "DAY", "SET", "ADD", "KEY", "TABLE", "SELECT"]


def test_increment_returns_the_stores_new_value(any_app):
    client = any_app.test_client()
    assert [client.get("/?e=PAGEVIEW").json["count"] for _ in range(3)] == [1, 2, 3]


def test_reserved_words_count_as_event_names(any_app):
    client = any_app.test_client()
    for name in RESERVED:
        client.get("/", query_string={"e": name})
    client.get("/", query_string={"e": "COUNT"})
    totals = client.get("/summary").json["totals"]
    assert totals == {**{name: 1 for name in RESERVED}, "COUNT": 2}


def test_events_with_punctuation(any_app):
    client = any_app.test_client()
    for name in ["A.B", "A:B", "A/B", "A-B", "A_B", "0", "X" * 64]:
        assert client.get("/", query_string={"e": name}).json["count"] == 1
    assert len(client.get("/summary").json["totals"]) == 7


def test_get_returns_only_asked_days(any_app):
    client = any_app.test_client()
    for day in (20261101, 20261102, 20261103):
        client.get("/", query_string={"e": "A", "c": day})
    with any_app.app_context():
        assert get_store().get([20261101, 20261103, 20261104]) == {20261101: {"A": 1}, 20261103: {"A": 1}}


def test_summary_over_a_leap_year_reads_every_day(any_app):
    any_app.config["BACKDATE_DAYS"] = 1100  # seeds 2024, older than the default window
    client = any_app.test_client()
    for day in (20240101, 20240229, 20241231):
        client.get("/", query_string={"e": "A", "c": day})
    reply = client.get("/summary?from=20240101&to=20241231").json
    assert len(reply["days"]) == 366
    assert reply["totals"] == {"A": 3}
    assert [d["day"] for d in reply["days"] if d["counts"]] == [20240101, 20240229, 20241231]


def test_bad_input_changes_nothing(any_app):
    client = any_app.test_client()
    client.get("/?e=A")
    for query in ("/?e=A&c=20261131", "/?e=bad%20name", "/?c=20261127", "/?e=A&e=B"):
        assert client.get(query).status_code == 400
    assert client.get("/summary").json["totals"] == {"A": 1}


def test_healthz(any_app):
    assert any_app.test_client().get("/healthz").status_code == 200


def race(app, threads, each, query):
    """Status codes of ``threads`` clients each sending ``each`` increments with ``query(thread, n)``."""

    def hit(thread):
        client = app.test_client()
        return [client.get("/", query_string=query(thread, n)).status_code for n in range(each)]

    with ThreadPoolExecutor(threads) as pool:
        return [code for batch in pool.map(hit, range(threads)) for code in batch]


def test_threads_count_exactly(any_app):
    threads, each = 16, 50
    codes = race(any_app, threads, each, lambda thread, n: {"e": "HOT"})
    assert codes == [200] * threads * each
    assert any_app.test_client().get("/summary").json["totals"] == {"HOT": threads * each}
    assert any_app.test_client().get("/?e=HOT").json["count"] == threads * each + 1


def names_of_today(app):
    with app.app_context():
        return get_store().get([TODAY]).get(TODAY, {})


def test_cap_refuses_new_names_but_keeps_counting_known_ones(any_app):
    any_app.config["MAX_EVENTS_PER_DAY"] = 3
    client = any_app.test_client()
    for name in ("A", "B", "C"):
        assert client.get("/", query_string={"e": name}).status_code == 200
    refused = client.get("/?e=D")
    assert refused.status_code == 409
    assert refused.json["status"] == "failure"
    assert client.get("/?e=A").json["count"] == 2
    assert client.get("/?e=D&c=20261126").status_code == 200  # another day has room
    assert names_of_today(any_app) == {"A": 2, "B": 1, "C": 1}
    with any_app.app_context():
        with pytest.raises(TooManyEvents):
            get_store().incr(TODAY, "E", max_events=3)
    assert names_of_today(any_app) == {"A": 2, "B": 1, "C": 1}


def test_cap_holds_exactly_when_threads_race_new_names(any_app):
    cap, threads, each = 5, 8, 4
    any_app.config["MAX_EVENTS_PER_DAY"] = cap
    codes = race(any_app, threads, each, lambda thread, n: {"e": f"N{thread}_{n}"})
    assert sorted(codes) == [200] * cap + [409] * (threads * each - cap)
    stored = names_of_today(any_app)
    assert len(stored) == cap and set(stored.values()) == {1}


def test_racing_the_last_free_name_counts_every_hit(any_app):
    threads, each = 8, 5
    any_app.config["MAX_EVENTS_PER_DAY"] = 2
    client = any_app.test_client()
    client.get("/?e=OLD")
    codes = race(any_app, threads, each, lambda thread, n: {"e": "NEW"})
    assert codes == [200] * threads * each
    assert names_of_today(any_app) == {"OLD": 1, "NEW": threads * each}
    assert client.get("/?e=THIRD").status_code == 409
