"""What the public endpoint counts: allowlist, window of days, bots, the per-day cap's settings."""

import pytest

from counter_app import create_app
from tests.conftest import NOW, TODAY

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def make(tmp_path, **config):
    return create_app({"STORE": f"sqlite:///{tmp_path}/p.sqlite3", "CLOCK": lambda: NOW, **config})


def stored(app):
    return app.test_client().get("/summary?from=20261001&to=20261130").json["totals"]


def test_allowlist_refuses_other_names(tmp_path):
    app = make(tmp_path, EVENTS="PAGEVIEW,signup")
    client = app.test_client()
    assert client.get("/?e=pageview").status_code == 200
    assert client.get("/?e=SIGNUP").status_code == 200
    refused = client.get("/?e=OTHER")
    assert refused.status_code == 422
    assert refused.json["status"] == "failure" and "OTHER" in refused.json["error"]
    assert stored(app) == {"PAGEVIEW": 1, "SIGNUP": 1}


@pytest.mark.parametrize(
    "day,status",
    [("20261027", 200), ("20261026", 400), (str(TODAY), 200), ("20261128", 200), ("20261129", 400), ("20251201", 400)],
)
def test_backdating_window_is_31_days_back_to_1_ahead(client, day, status):
    reply = client.get("/", query_string={"e": "A", "c": day})
    assert reply.status_code == status
    assert client.get("/summary?from=20251201&to=20261130").json["totals"] == ({"A": 1} if status == 200 else {})


def test_window_follows_the_time_zone(tmp_path):
    from datetime import datetime, timezone

    late = datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc)  # already the 28th in Tokyo
    client = make(tmp_path, TIMEZONE="Asia/Tokyo", CLOCK=lambda: late).test_client()
    assert client.get("/?e=A&c=20261129").status_code == 200
    assert client.get("/?e=A&c=20261130").status_code == 400


def test_window_setting(tmp_path):
    client = make(tmp_path, BACKDATE_DAYS=0).test_client()
    assert client.get(f"/?e=A&c={TODAY}").status_code == 200
    assert client.get("/?e=A&c=20261126").status_code == 400


def test_bots_are_answered_but_not_counted(client):
    reply = client.get("/?e=A", headers={"User-Agent": GOOGLEBOT})
    assert reply.status_code == 200
    assert reply.json == {"status": "success", "eventkey": "A", "day": TODAY, "counted": False}
    assert client.get("/?e=A", headers={"User-Agent": FIREFOX}).json["count"] == 1
    assert client.get("/?e=A").json["count"] == 2  # the test client's own agent, Werkzeug/3, counts


def test_bots_still_get_400_for_bad_input(client):
    assert client.get("/?e=bad%20name", headers={"User-Agent": GOOGLEBOT}).status_code == 400


def test_count_bots_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_COUNT_BOTS", "true")
    client = make(tmp_path).test_client()
    assert client.get("/?e=A", headers={"User-Agent": GOOGLEBOT}).json["count"] == 1


def test_settings_from_environment_are_normalised(tmp_path, monkeypatch):
    for name, value in {"EVENTS": "PAGEVIEW,SIGNUP", "BACKDATE_DAYS": "7", "MAX_EVENTS_PER_DAY": "12",
                        "COUNT_BOTS": "false", "PUBLIC_BADGES": "true"}.items():
        monkeypatch.setenv(f"COUNTER_{name}", value)
    config = make(tmp_path).config
    assert config["EVENTS"] == {"PAGEVIEW", "SIGNUP"}
    assert (config["BACKDATE_DAYS"], config["MAX_EVENTS_PER_DAY"]) == (7, 12)
    assert (config["COUNT_BOTS"], config["PUBLIC_BADGES"]) == (False, True)


def test_a_numeric_only_allowlist_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_EVENTS", "404")  # from_prefixed_env parses this as an int
    client = make(tmp_path).test_client()
    assert client.get("/?e=404").status_code == 200
    assert client.get("/?e=500").status_code == 422


@pytest.mark.parametrize("value", ["*", " * "])
def test_star_allows_any_name_on_purpose(tmp_path, monkeypatch, value):
    monkeypatch.setenv("COUNTER_EVENTS", value)  # prod's deploy insists on an explicit COUNTER_EVENTS
    app = make(tmp_path)
    assert app.config["EVENTS"] is None
    assert app.test_client().get("/?e=ANYTHING").status_code == 200


def test_defaults(app):
    assert app.config["EVENTS"] is None
    assert (app.config["BACKDATE_DAYS"], app.config["MAX_EVENTS_PER_DAY"]) == (31, 200)
    assert (app.config["COUNT_BOTS"], app.config["PUBLIC_BADGES"]) == (False, False)


@pytest.mark.parametrize(
    "name,value",
    [("EVENTS", "PAGEVIEW,bad name"), ("EVENTS", ","), ("EVENTS", "PAGEVIEW,*"), ("EVENTS", {"a": 1}),
     ("BACKDATE_DAYS", "-1"),
     ("BACKDATE_DAYS", "a week"), ("BACKDATE_DAYS", "1.5"), ("MAX_EVENTS_PER_DAY", "0"),
     ("MAX_EVENTS_PER_DAY", "true"), ("COUNT_BOTS", "maybe"), ("PUBLIC_BADGES", "2")],
)
def test_bad_settings_stop_the_start_naming_the_variable(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(f"COUNTER_{name}", value if isinstance(value, str) else __import__("json").dumps(value))
    with pytest.raises(ValueError, match=f"COUNTER_{name}="):
        make(tmp_path)


def test_detector_is_built_once_per_process():
    from counter_app import agents

    assert agents.is_bot(GOOGLEBOT) and not agents.is_bot(FIREFOX)
    assert agents._detector() is agents._detector()


def test_head_is_answered_but_never_counted(client):
    assert client.head("/?e=A").status_code == 200
    assert client.head("/?e=bad%20name").status_code == 400
    assert client.get("/?e=A").json["count"] == 1


@pytest.mark.parametrize("value,status", [("true", 200), ("false", 401), ("False", 401)])
def test_public_badges_opens_routes_guarded_with_it(tmp_path, monkeypatch, value, status):
    from counter_app.auth import read_access

    monkeypatch.setenv("COUNTER_PUBLIC_BADGES", value)
    app = make(tmp_path, READ_TOKEN="s3cret-read-token")
    app.add_url_rule("/badge-like", "badge_like", read_access("PUBLIC_BADGES")(lambda: "ok"))
    assert app.test_client().get("/badge-like").status_code == status
    assert app.test_client().get("/summary").status_code == 401
