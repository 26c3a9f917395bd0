"""The read token: private summaries, open counting."""

import pytest

from counter_app import create_app


@pytest.fixture
def private(tmp_path):
    return create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "s3cret"}).test_client()


def test_counting_stays_open(private):
    assert private.get("/?e=A").status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}, {"Authorization": "Bearer s3cre"},
                {"Authorization": "Basic s3cret"}, {"Authorization": "Bearer s3crét"}]
)
def test_summary_needs_the_token(private, headers):
    reply = private.get("/summary", headers=headers)
    assert reply.status_code == 401
    assert reply.json["status"] == "failure"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert "s3cret" not in reply.get_data(as_text=True)


def test_summary_with_the_token(private):
    private.get("/?e=A")
    reply = private.get("/summary", headers={"Authorization": "Bearer s3cret"})
    assert reply.status_code == 200
    assert reply.json["totals"] == {"A": 1}


def test_numeric_token_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COUNTER_READ_TOKEN", "12345")  # from_prefixed_env parses this as an int
    client = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"}).test_client()
    assert client.get("/summary").status_code == 401
    assert client.get("/summary", headers={"Authorization": "Bearer 12345"}).status_code == 200


@pytest.mark.parametrize("token", ["false", "0", "null", "1.50"])
def test_token_from_environment_is_taken_as_written(monkeypatch, tmp_path, token):
    monkeypatch.setenv("COUNTER_READ_TOKEN", token)  # JSON would read these as no token, or as 1.5
    client = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"}).test_client()
    assert client.get("/summary").status_code == 401
    assert client.get("/summary", headers={"Authorization": f"Bearer {token}"}).status_code == 200
