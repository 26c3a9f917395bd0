"""The read token: private summaries and totals, open counting, and no token too weak to protect anything."""

import pytest

from counter_app import create_app
from tests.conftest import NOW

TOKEN = "s3cret-read-token"


@pytest.fixture
def private(tmp_path):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": TOKEN, "CLOCK": lambda: NOW})
    return app.test_client()


def test_counting_stays_open(private):
    assert private.get("/?e=A").status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": f"Basic {TOKEN}"},
                {"Authorization": f"Bearer {TOKEN[:-1]}é"}]
)
def test_summary_needs_the_token(private, headers):
    reply = private.get("/summary", headers=headers)
    assert reply.status_code == 401
    assert reply.json["status"] == "failure"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in reply.get_data(as_text=True)


def test_summary_with_the_token(private):
    private.get("/?e=A")
    reply = private.get("/summary", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200
    assert reply.json["totals"] == {"A": 1}


@pytest.mark.parametrize("path", ["/?e=A", "/?e=A&c=20261120"])
def test_counting_reply_hides_the_total_without_the_token(private, path):
    """Counting stays open, but its reply would otherwise read any day's private total at the cost of adding 1."""
    for _ in range(2):
        reply = private.get(path)
        assert reply.status_code == 200
        assert "count" not in reply.json and reply.json["status"] == "success" and reply.json["eventkey"] == "A"
    assert private.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).json["count"] == 3
    assert private.post("/", data={"e": "A"}, headers={"Authorization": "Bearer wrong"}).json.keys() == {
        "status", "eventkey", "day"}


def test_counting_reply_has_the_total_with_the_read_cookie(private):
    private.post("/dashboard", data={"token": TOKEN})
    assert private.get("/?e=A").json["count"] == 1


def test_open_counter_replies_with_the_total(client):
    assert client.get("/?e=A").json["count"] == 1


def test_numeric_token_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COUNTER_READ_TOKEN", "1234567890123456")  # from_prefixed_env parses this as an int
    client = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"}).test_client()
    assert client.get("/summary").status_code == 401
    assert client.get("/summary", headers={"Authorization": "Bearer 1234567890123456"}).status_code == 200


@pytest.mark.parametrize("token", ["false" * 4, "0" * 16, "null" * 4, "1.50000000000000"])
def test_token_from_environment_is_taken_as_written(monkeypatch, tmp_path, token):
    monkeypatch.setenv("COUNTER_READ_TOKEN", token)  # JSON would read these as numbers or other values
    client = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"}).test_client()
    assert client.get("/summary").status_code == 401
    assert client.get("/summary", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    ("token", "reason"),
    [("", "empty"), ("x" * 15, "has 15 characters; it needs at least 16"), (" " + "x" * 16, "whitespace"),
     ("x" * 16 + "\n", "whitespace"), (" " * 20, "whitespace")],
    ids=["empty", "15-chars", "leading-space", "trailing-newline", "blank"],
)
def test_weak_token_from_environment_stops_the_app(monkeypatch, tmp_path, token, reason):
    monkeypatch.setenv("COUNTER_READ_TOKEN", token)
    with pytest.raises(ValueError, match="COUNTER_READ_TOKEN") as refused:
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})
    assert reason in str(refused.value)
    assert token.strip() == "" or token.strip() not in str(refused.value)  # a secret never reaches the logs


@pytest.mark.parametrize("token", [12345678901234567, ["x" * 16], "short"])
def test_weak_token_from_config_stops_the_app(tmp_path, token):
    with pytest.raises(ValueError, match="COUNTER_READ_TOKEN"):
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": token})


def test_sixteen_characters_are_enough(tmp_path):
    client = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "x" * 16}).test_client()
    assert client.get("/summary", headers={"Authorization": "Bearer " + "x" * 16}).status_code == 200
