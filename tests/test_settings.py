"""Every setting either stops the start with a sentence naming it, or works: none fails requests later."""

import json
from datetime import date, timedelta

import pytest

from counter_app import SETTINGS, create_app
from counter_app.storage import ConfigurationError
from tests.conftest import NOW, TODAY, dynalite_app

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
HOSTILE = ["abc", "-1", "0", "1.5", "1e400", "null", "[]", "{}", "true", "[\"A\"]", "1" + "0" * 20,
           "1" * 5000, " ", "\u00e9", "a b", "../x", "PAGEVIEW,-X"]


def answers(app) -> list[int]:
    """The status of one request of each kind, with bodies in each framing."""
    client = app.test_client()
    requests = [
        ("GET", "/?e=A", {}), ("POST", "/", {"data": {"e": "A"}}),
        ("POST", "/", {"data": "e=A", "content_type": "text/plain"}), ("POST", "/", {"json": {"e": "A"}}),
        ("GET", "/summary", {}), ("GET", "/summary?format=csv", {}), ("GET", "/dashboard", {}),
        ("POST", "/dashboard", {"data": {"token": "x"}}), ("GET", "/counter.js", {}),
        ("GET", "/badge.svg?e=A", {}), ("GET", "/pixel.gif?e=A", {}), ("GET", "/openapi.json", {}),
    ]
    statuses = []
    for method, path, options in requests:
        with client.open(path, method=method, headers=BROWSER, **options) as reply:
            statuses.append(reply.status_code)
    return statuses


@pytest.mark.parametrize("name", [name for name in SETTINGS if name != "STORE"])
def test_any_value_of_any_setting_stops_the_start_naming_it_or_works(tmp_path, monkeypatch, name):
    for value in HOSTILE:
        monkeypatch.setenv(f"COUNTER_{name}", value)
        try:
            app = create_app({"STORE": f"sqlite:///{tmp_path}/s.sqlite3", "CLOCK": lambda: NOW})
        except (ValueError, ConfigurationError) as exc:
            assert f"COUNTER_{name}" in str(exc), (value, str(exc))
            continue
        statuses = answers(app)
        assert all(status < 500 for status in statuses), (name, value, statuses)


@pytest.mark.parametrize(
    "name,value",
    [("BACKDATE_DAYS", "1000000"), ("BACKDATE_DAYS", "36501"), ("MAX_EVENTS_PER_DAY", "100000000000000000000"),
     ("MAX_EVENTS_PER_DAY", "1000001"), ("MAX_CONTENT_LENGTH", "abc"), ("MAX_CONTENT_LENGTH", "-1"),
     ("MAX_CONTENT_LENGTH", "null"), ("MAX_CONTENT_LENGTH", "1048577"), ("BACKDATE_DAYS", "1" * 5000),
     ("IDEMPOTENCY_HOURS", "0"), ("IDEMPOTENCY_HOURS", "721"), ("IDEMPOTENCY_HOURS", "24.5")],
)
def test_numbers_past_what_the_stores_and_the_calendar_hold_stop_the_start(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(f"COUNTER_{name}", value)
    with pytest.raises(ValueError, match=f"^COUNTER_{name}=.* must be a whole number from "):
        create_app({"STORE": f"sqlite:///{tmp_path}/s.sqlite3"})


@pytest.mark.parametrize("store", ["sqlite", "dynalite"])
def test_the_largest_numbers_accepted_work_on_both_stores(request, tmp_path, monkeypatch, store):
    for name, value in {"BACKDATE_DAYS": "36500", "MAX_EVENTS_PER_DAY": "1000000",
                        "MAX_CONTENT_LENGTH": "1048576"}.items():
        monkeypatch.setenv(f"COUNTER_{name}", value)
    if store == "sqlite":
        app = create_app({"STORE": f"sqlite:///{tmp_path}/s.sqlite3", "CLOCK": lambda: NOW})
    else:
        app = dynalite_app(request.getfixturevalue("dynalite"), monkeypatch)
    client = app.test_client()
    oldest = date(2026, 11, 27) - timedelta(days=36500)
    assert client.get("/?e=A").json["count"] == 1
    assert client.get("/", query_string={"e": "A", "c": oldest.strftime("%Y%m%d")}).json["count"] == 1
    too_old = client.get("/", query_string={"e": "A", "c": (oldest - timedelta(days=1)).strftime("%Y%m%d")})
    assert too_old.status_code == 400 and "36500 days ago" in too_old.json["error"]
    big = client.post("/", data=json.dumps({"e": "B", "pad": "x" * 500_000}), content_type="application/json")
    assert big.json["count"] == 1
    assert client.get("/summary").json["totals"] == {"A": 1, "B": 1}
    assert client.get(f"/summary?from={oldest:%Y%m%d}&to={oldest:%Y%m%d}").json["totals"] == {"A": 1}
    assert TODAY == 20261127


@pytest.mark.parametrize(
    "variable,value",
    [("COUNTER_CLOCK", "x"), ("COUNTER_APPLICATION_ROOT", "5"), ("COUNTER_PROPAGATE_EXCEPTIONS", "true"),
     ("COUNTER_USE_X_SENDFILE", "true"), ("COUNTER_READTOKEN", "s3cret"), ("COUNTER_TABLE__NAME", "x")],
)
def test_a_variable_that_is_no_counter_setting_stops_the_start(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"^{variable} is not a setting of the counter; .*COUNTER_READ_TOKEN"):
        create_app({"STORE": f"sqlite:///{tmp_path}/s.sqlite3"})


@pytest.mark.parametrize(
    "name,value", [("TABLE", "[1]"), ("TABLE", "a b"), ("TABLE_PREFIX", "\u00e9"), ("TABLE", "x" * 251)]
)
def test_a_table_name_dynamodb_refuses_stops_the_start(monkeypatch, name, value):
    monkeypatch.setenv(f"COUNTER_{name}", value)
    with pytest.raises(ValueError, match="COUNTER_TABLE_PREFIX and COUNTER_TABLE make the table name"):
        create_app({"STORE": "dynamodb://"})


@pytest.mark.parametrize("value", ["streams", "", "1", "Transaction"])
def test_an_unknown_way_of_writing_ids_stops_the_start_on_every_store(tmp_path, monkeypatch, value):
    monkeypatch.setenv("COUNTER_IDEMPOTENT_WRITES", value)
    for store in (f"sqlite:///{tmp_path}/s.sqlite3", "dynamodb://"):
        with pytest.raises(ValueError, match="^COUNTER_IDEMPOTENT_WRITES=.* must be one of: stream, transaction"):
            create_app({"STORE": store})
