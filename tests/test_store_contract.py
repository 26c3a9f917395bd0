"""One contract, run against every store: SQLite and DynamoDB (dynalite)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from counter_app import create_app
from counter_app.storage import MAX_COUNT, TooManyEvents
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


# Issue 10 §5: nobody can lock the counter for a day.
YESTERDAY, WEEK_BEFORE, EIGHT_DAYS_BEFORE, TOMORROW = 20261126, 20261120, 20261119, 20261128


def fill_with_junk(client, slots, day=TODAY):
    """Take every slot the day has for new names, as an attacker would, and check that the next is refused."""
    for n in range(slots):
        assert client.get("/", query_string={"e": f"JUNK{n:02d}{'X' * 58}", "c": day}).status_code == 200
    assert client.get("/", query_string={"e": "JUNK" + "Y" * 60, "c": day}).status_code == 409


def test_a_name_counted_in_the_week_before_counts_on_a_day_full_of_junk(any_app):
    any_app.config["MAX_EVENTS_PER_DAY"] = 3
    client = any_app.test_client()
    for name, day in (("PAGEVIEW", YESTERDAY), ("PAGEVIEW", YESTERDAY), ("SIGNUP", WEEK_BEFORE),
                      ("STALE", EIGHT_DAYS_BEFORE)):
        assert client.get("/", query_string={"e": name, "c": day}).status_code == 200
    fill_with_junk(client, 3)
    assert [client.get("/?e=PAGEVIEW").json["count"] for _ in range(3)] == [1, 2, 3]
    assert client.get("/?e=SIGNUP").json["count"] == 1
    refused = client.get("/?e=STALE")  # counted 8 days before: not known any more
    assert refused.status_code == 409 and refused.json["status"] == "failure"
    today = names_of_today(any_app)
    assert {name: today[name] for name in ("PAGEVIEW", "SIGNUP")} == {"PAGEVIEW": 3, "SIGNUP": 1}
    assert len(today) == 5 and "STALE" not in today
    # Tomorrow knows today's names, the junk too. On SQLite a name new to it still needs a slot; on
    # DynamoDB a day that has not begun takes only the names counted the day before (issue 19 §10).
    any_app.config["MAX_EVENTS_PER_DAY"] = 1
    new = client.get("/", query_string={"e": "NEW1", "c": TOMORROW}).status_code
    assert new == (409 if any_app.config["STORE"].startswith("dynamodb") else 200)
    assert client.get("/", query_string={"e": "NEW2", "c": TOMORROW}).status_code == 409
    for name in ("SIGNUP", "JUNK00" + "X" * 58, "PAGEVIEW"):
        assert client.get("/", query_string={"e": name, "c": TOMORROW}).json["count"] == 1
    assert client.get("/summary", query_string={"from": YESTERDAY, "to": TOMORROW}).json["totals"]["PAGEVIEW"] == 6


def test_an_owner_makes_a_name_known_by_importing_a_count_of_0(any_app, tmp_path):
    any_app.config["MAX_EVENTS_PER_DAY"] = 2
    client = any_app.test_client()
    fill_with_junk(client, 2)
    launch = tmp_path / "launch.csv"
    launch.write_text(f"day,event,count\n{YESTERDAY},LAUNCH,0\n")
    assert any_app.test_cli_runner().invoke(args=["import", str(launch)]).exit_code == 0
    # A process that looked at the day before the import learns it within a minute (docs/stores.md); a new one at once.
    names = ("STORE", "TABLE_PREFIX", "CLOCK", "MAX_EVENTS_PER_DAY")
    later = create_app({name: any_app.config[name] for name in names})
    assert later.test_client().get("/?e=LAUNCH").json["count"] == 1


def test_with_an_allowlist_every_allowed_name_counts_whatever_the_cap(any_app):
    any_app.config.update(EVENTS=frozenset({"A", "B", "C"}), MAX_EVENTS_PER_DAY=1)
    client = any_app.test_client()
    assert [client.get("/", query_string={"e": name}).status_code for name in "ABCA"] == [200] * 4
    assert client.get("/?e=D").status_code == 422
    assert names_of_today(any_app) == {"A": 2, "B": 1, "C": 1}


def test_a_known_name_counts_exactly_when_threads_race_junk_for_the_slots(any_app):
    any_app.config["MAX_EVENTS_PER_DAY"] = 4
    client = any_app.test_client()
    client.get("/", query_string={"e": "HOT", "c": YESTERDAY})
    codes = race(any_app, 8, 6, lambda thread, n: {"e": "HOT" if n % 2 else f"J{thread}_{n}"})
    hot, junk = codes[1::2], codes[::2]  # race() keeps each thread's codes in order
    assert hot == [200] * 24
    today = names_of_today(any_app)
    assert today.pop("HOT") == 24
    # SQLite counts HOT's row in the day's names, DynamoDB keeps it apart: 3 or 4 junk names took slots.
    assert len(today) == junk.count(200) in (3, 4) and set(junk) == {200, 409}


def test_a_replaced_count_is_the_days_whole_count_wherever_the_name_lived(any_app):
    client = any_app.test_client()
    for _ in range(3):
        client.get("/?e=NEWBIE")
    with any_app.app_context():
        store = get_store()
        store.write_many([(TODAY, "NEWBIE", 5)], replace=True)
        assert store.get([TODAY]) == {TODAY: {"NEWBIE": 5}}
        assert dict(store.dump()) == {TODAY: {"NEWBIE": 5}}
    assert client.get("/?e=NEWBIE").json["count"] == 6
    assert client.get("/summary").json["totals"] == {"NEWBIE": 6}


# Issue 13 §1: a counter at its limit.
def test_a_counter_at_its_limit_is_refused_and_stays_an_integer(any_app, tmp_path):
    big = MAX_COUNT
    client, runner = any_app.test_client(), any_app.test_cli_runner()
    source = tmp_path / "big.csv"
    source.write_text(f"day,event,count\n{TODAY},BIG,{big}\n")
    assert runner.invoke(args=["import", str(source)]).exit_code == 0
    refused = client.get("/?e=BIG")
    assert refused.status_code == 409 and refused.json["status"] == "failure"
    assert "largest" in refused.json["error"]
    assert f'"BIG":{big}' in client.get("/summary").get_data(as_text=True)
    exported = tmp_path / "export.csv"
    assert runner.invoke(args=["export", "--output", str(exported)]).exit_code == 0
    assert exported.read_text() == f"day,event,count,visitors\n{TODAY},BIG,{big},0\n"  # the refused hit: no visitor
    assert runner.invoke(args=["import", str(exported), "--replace"]).exit_code == 0
    added = runner.invoke(args=["import", str(source), "--again"])  # adding to it would pass the limit too
    assert added.exit_code == 1 and "largest" in added.stderr
    (tmp_path / "big.csv.progress").unlink(missing_ok=True)
    assert names_of_today(any_app) == {"BIG": big}


def test_the_limit_holds_for_a_counter_made_by_counting(any_app):
    from counter_app.storage import CounterAtLimit

    big = MAX_COUNT
    with any_app.app_context():
        store = get_store()
        assert store.incr(TODAY, "N", big - 1, max_events=200) == big - 1
        assert store.incr(TODAY, "N", max_events=200) == big
        with pytest.raises(CounterAtLimit):
            store.incr(TODAY, "N", max_events=200)
        with pytest.raises(CounterAtLimit):
            store.incr(TODAY, "N")
    assert any_app.test_client().get("/?e=N").status_code == 409
    assert names_of_today(any_app) == {"N": big}
