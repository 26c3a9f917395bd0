"""Faults: a store that dies, refuses or fills up answers promptly, as JSON, and logs one line."""

import json

import pytest
from botocore.stub import Stubber

from counter_app import create_app
from counter_app.storage.dynamodb import ATTEMPTS
from counter_app.store import get_store
from tests.conftest import NOW, dynalite_app
from tests.dynalite import Dynalite


@pytest.fixture
def private_dynalite():
    server = Dynalite().start()
    yield server
    server.stop()


def test_killing_dynalite_mid_run_gives_503_after_bounded_attempts(private_dynalite, monkeypatch):
    app = dynalite_app(private_dynalite, monkeypatch)
    client = app.test_client()
    assert [client.get("/?e=A").json["count"] for _ in range(3)] == [1, 2, 3]
    with app.app_context():
        store = get_store()
    sent = []
    store.client.meta.events.register("before-send.dynamodb.*", lambda **_: sent.append(1))
    private_dynalite.stop()
    for path in ("/?e=A", "/summary", "/healthz"):
        sent.clear()
        reply = client.get(path)
        assert reply.status_code == 503, path
        assert reply.headers["Retry-After"] == "1"
        assert reply.json["status"] == "failure" and "DynamoDB" not in reply.json["error"]
        # A refused connection proves nothing was applied: sent again, ATTEMPTS times in all;
        # a health check is one call, whatever its answer.
        assert len(sent) == (1 if path == "/healthz" else ATTEMPTS)


def test_healthz_reads_the_table_once_and_says_503_when_it_is_missing(dynalite, monkeypatch):
    app = dynalite_app(dynalite, monkeypatch)
    with app.app_context():
        store = get_store()
    sent = []
    store.client.meta.events.register("provide-client-params.dynamodb.*",
                                      lambda model, params, **_: sent.append((model.name, dict(params))))
    assert app.test_client().get("/healthz").status_code == 200
    assert sent == [("GetItem", {"TableName": store.table, "Key": {"Day": {"N": "1"}}})]
    store.table = "NOT_" + store.table  # as if the table were deleted, or the prefix wrong
    sent.clear()
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503 and "Retry-After" not in reply.headers
    assert len(sent) == 1


def test_item_size_limit_is_409_not_500(monkeypatch):
    server = Dynalite(None, "--maxItemSizeKb", "1").start()
    try:
        app = dynalite_app(server, monkeypatch, MAX_EVENTS_PER_DAY=1000)
        client = app.test_client()
        codes = [client.get("/", query_string={"e": f"{n:03d}" + "X" * 61}).status_code for n in range(40)]
    finally:
        server.stop()
    full = codes.index(409)
    assert 5 < full < 20 and codes[:full] == [200] * full
    assert set(codes[full:]) == {409}


def stub_update_error(app, code, message):
    with app.app_context():
        store = get_store()
    stub = Stubber(store.client)
    stub.add_client_error("update_item", service_error_code=code, service_message=message, http_status_code=400)
    return stub


@pytest.mark.parametrize(
    "message,status",
    [("Item size to update has exceeded the maximum allowed size", 409), ("Something else is invalid", 503)],
)
def test_validation_errors(message, status):
    from moto import mock_aws

    with mock_aws():
        app = create_app({"STORE": "dynamodb://", "CLOCK": lambda: NOW, "VISITORS": False})  # the count's call alone
        with stub_update_error(app, "ValidationException", message):
            reply = app.test_client().get("/?e=A")
    assert reply.status_code == status
    assert reply.json["status"] == "failure"
    assert "ValidationException" not in reply.json["error"] and "size" not in reply.json["error"]


def test_a_failure_logs_one_json_line_and_tells_the_client_nothing_internal(tmp_path, capsys):
    (tmp_path / "taken").mkdir()  # a directory where the database file should be
    client = create_app({"STORE": f"sqlite:///{tmp_path}/taken"}).test_client()
    capsys.readouterr()
    reply = client.get("/?e=A")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "ERROR" and line["path"] == "/" and "SQLite" in line["reason"]
    body = reply.get_data(as_text=True)
    assert reply.status_code == 503
    for secret in ("SQLite", "taken", str(tmp_path), "Traceback", "sqlite3"):
        assert secret not in body


def test_an_unexpected_error_is_a_bare_500_with_one_log_line(tmp_path, capsys, monkeypatch):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})  # made here, so it logs to captured stdout
    with app.app_context():
        store = get_store()

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/x.py")

    monkeypatch.setattr(store, "incr", broken)
    capsys.readouterr()
    reply = app.test_client().get("/?e=A")
    lines = capsys.readouterr().out.splitlines()
    assert reply.status_code == 500
    assert reply.json["status"] == "failure" and "secret" not in reply.get_data(as_text=True)
    assert len(lines) == 1 and "secret internals" in json.loads(lines[0])["exception"]
