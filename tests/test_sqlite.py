"""SQLite specifics: exact across processes, schema on first use, failures are 503, faults heal."""

import multiprocessing
import os
import resource
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from counter_app import create_app
from counter_app.storage.sqlite import CHECKPOINT_EVERY, HEALTH_TIMEOUT
from tests.conftest import TODAY

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
        assert "Retry-After" not in reply.headers  # retrying will not help until someone moves the folder
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
        assert reply.headers["Retry-After"] == "1"  # a lock is let go: a retry can succeed
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


# Issue 13 §3: faults heal without a restart, and /healthz says 503 while writes fail.
NOBODY = 65534


@pytest.fixture
def open_folder():
    """A folder every user may enter, for a database that must be readable by ``nobody``."""
    with tempfile.TemporaryDirectory() as path:
        os.chmod(path, 0o755)
        yield Path(path)


@contextmanager
def read_only(folder: Path):
    """The folder and its files read-only, as after ``chmod a-w``; root ignores modes, so it acts as nobody then."""
    modes = {path: path.stat().st_mode for path in [folder, *folder.iterdir()]}
    for path, mode in modes.items():
        path.chmod(mode & ~0o222)
    as_nobody = os.geteuid() == 0
    if as_nobody:
        os.seteuid(NOBODY)
    try:
        yield
    finally:
        if as_nobody:
            os.seteuid(0)
        for path, mode in modes.items():
            path.chmod(mode)


@contextmanager
def full_disk(limit: int):
    """No file of this process may grow past ``limit`` bytes: writes fail with EFBIG, as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def refused_without_retry(client, paths=("/?e=A", "/healthz")):
    for path in paths:
        reply = client.get(path)
        assert reply.status_code == 503, path
        assert "Retry-After" not in reply.headers, path  # an operator's fault: retrying soon will not help


def heals(client, before: int) -> None:
    """The same app, never restarted, counts every one of 100 hits and says it is healthy."""
    assert [client.get("/?e=A").status_code for _ in range(100)] == [200] * 100
    assert client.get("/healthz").status_code == 200
    assert client.get("/summary").json["totals"]["A"] == before + 100


def test_a_read_only_spell_heals_without_a_restart(open_folder):
    url = f"sqlite:///{open_folder}/counter.sqlite3"
    other = create_app({"STORE": url}).test_client()
    assert other.get("/?e=A").status_code == 200
    client = create_app({"STORE": url}).test_client()  # its first connection opens during the spell
    with read_only(open_folder):
        refused_without_retry(client)
        assert client.get("/summary").status_code == 200  # reading still works, and says so
    heals(client, before=1)


def test_a_full_disk_heals_without_a_restart(tmp_path):
    path = tmp_path / "counter.sqlite3"
    client = create_app({"STORE": f"sqlite:///{path}", "MAX_EVENTS_PER_DAY": 1000}).test_client()
    for n in range(CHECKPOINT_EVERY // 4):  # half a checkpoint's worth of statements: the log only grows
        assert client.get("/", query_string={"e": f"E{n}"}).status_code == 200
    other = sqlite3.connect(path)  # another process: the log stays, so the next write must grow it
    other.execute("SELECT count(*) FROM TEST_counters").fetchall()
    try:
        with full_disk(max(file.stat().st_size for file in tmp_path.iterdir())):
            refused_without_retry(client)
        heals(client, before=0)
    finally:
        other.close()


def test_healthz_is_503_while_another_writer_holds_the_lock(tmp_path):
    path = tmp_path / "counter.sqlite3"
    client = create_app({"STORE": f"sqlite:///{path}"}).test_client()
    assert client.get("/healthz").status_code == 200
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        reply = client.get("/healthz")
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "1"  # a lock is let go
    assert HEALTH_TIMEOUT <= waited < 2.0  # the health check's short wait, not a count's 2 s
    assert client.get("/healthz").status_code == 200


def test_the_health_check_row_is_never_read_back(client, runner):
    client.get("/?e=A")
    assert client.get("/healthz").status_code == 200
    assert runner.invoke(args=["export"]).stdout == f"day,event,count,visitors\n{TODAY},A,1,1\n"
    assert client.get("/summary?from=10000101&to=10001231").json["totals"] == {}


def test_the_write_ahead_log_is_restarted_while_another_connection_stays(tmp_path):
    """SQLite's own checkpoint rarely restarts the log beside another process; the store's does, so it stays small."""
    path = tmp_path / "counter.sqlite3"
    client = create_app({"STORE": f"sqlite:///{path}"}).test_client()
    other = sqlite3.connect(path)  # another process that reads now and then
    sizes = []
    try:
        for round_ in range(4):
            for n in range(CHECKPOINT_EVERY):
                assert client.get("/", query_string={"e": f"E{n % 50}"}).status_code == 200
            other.execute("SELECT count(*) FROM TEST_counters").fetchall()
            sizes.append((tmp_path / "counter.sqlite3-wal").stat().st_size)
    finally:
        other.close()
    assert sizes[-1] <= sizes[0] * 1.25, sizes  # bounded: a log that only grew would be four times the first
