"""SQLite specifics: exact across processes, schema on first use, failures are 503."""

import multiprocessing
import sqlite3

from counter_app import create_app

PROCESSES, EACH = 4, 100


def _hammer(url: str) -> list[int]:
    client = create_app({"STORE": url}).test_client()
    return [client.get("/?e=MP").status_code for _ in range(EACH)]


def test_processes_count_exactly(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite3"
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        codes = [code for batch in pool.map(_hammer, [url] * PROCESSES) for code in batch]
    assert codes == [200] * PROCESSES * EACH
    rows = sqlite3.connect(f"{tmp_path}/shared.sqlite3").execute("SELECT event, count FROM TEST_counters").fetchall()
    assert rows == [("MP", PROCESSES * EACH)]


def test_schema_created_on_first_use_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "dir" / "c.sqlite3"
    client = create_app({"STORE": f"sqlite:///{path}"}).test_client()
    assert not path.exists()
    assert client.get("/?e=A").status_code == 200
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT event, count FROM TEST_counters").fetchall() == [("A", 1)]


def test_unopenable_file_is_503_json(tmp_path):
    (tmp_path / "taken").mkdir()  # a directory where the database file should be
    client = create_app({"STORE": f"sqlite:///{tmp_path}/taken"}).test_client()
    for path in ("/?e=A", "/summary", "/healthz"):
        reply = client.get(path)
        assert reply.status_code == 503, path
        assert reply.json["status"] == "failure"
        assert reply.headers["Retry-After"] == "1"
        assert "taken" not in reply.json["error"]


def test_locked_database_is_503_after_short_wait(tmp_path):
    url = f"sqlite:///{tmp_path}/locked.sqlite3"
    client = create_app({"STORE": url}).test_client()
    assert client.get("/?e=A").status_code == 200
    holder = sqlite3.connect(f"{tmp_path}/locked.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        app = create_app({"STORE": url})
        app.extensions["counter.store"].timeout = 0.2
        reply = app.test_client().get("/?e=A")
        assert reply.status_code == 503
    finally:
        holder.execute("ROLLBACK")
    assert client.get("/?e=A").json["count"] == 2


def test_lock_held_briefly_is_waited_out(tmp_path):
    import threading

    url = f"sqlite:///{tmp_path}/brief.sqlite3"
    client = create_app({"STORE": url}).test_client()
    assert client.get("/?e=A").status_code == 200
    holder = sqlite3.connect(f"{tmp_path}/brief.sqlite3", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, holder.execute, ["COMMIT"])
    release.start()
    try:
        reply = client.get("/?e=A")
    finally:
        release.join()
    assert reply.status_code == 200
    assert reply.json["count"] == 2


def test_create_table_command(runner, app):
    result = runner.invoke(args=["create-table"])
    assert result.exit_code == 0
    assert "TEST_counters" in result.output and "ready" in result.output


def test_store_url_without_path_is_rejected():
    import pytest

    from counter_app.storage import ConfigurationError

    with pytest.raises(ValueError, match="sqlite://") as caught:
        create_app({"STORE": "sqlite://"})
    assert isinstance(caught.value.__cause__, ConfigurationError)
