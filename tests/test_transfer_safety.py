"""Issue 19 §1-8: imports that never double, never trace back, and never advise a rerun that cannot succeed."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from tests.conftest import dynalite_app
from tests.test_transfer import get_store_of, problems, read, run, seed, stored

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def day(n: int) -> int:
    """The ``n``-th day from 2025-01-01, as yyyyMMdd."""
    return int((date(2025, 1, 1) + timedelta(days=n)).strftime("%Y%m%d"))


def total(app) -> int:
    return sum(n for counts in stored(app).values() for n in counts.values())


# §1: compact JSON, several rows on a line.
def test_compact_json_rows_on_one_line_are_each_read(any_app, tmp_path):
    path = tmp_path / "one.json"
    path.write_text('[{"day":20261101,"event":"A","count":1},{"day":20261101,"event":"B","count":2}]')
    code, _, err = run(any_app, "import", path)
    assert code == 0 and "Traceback" not in err and err.endswith("Added 2 rows.\n"), err
    assert stored(any_app) == {20261101: {"A": 1, "B": 2}}
    assert [(row.pos, row.line) for row in read(path.read_bytes())] == [(1, 1), (2, 1)]


def test_a_repeat_in_compact_json_is_reported_where_it_is():
    row = '{{"day":20261101,"event":"{}","count":1}}'
    same_line = f'[{row.format("A")},{row.format("B")},{row.format("A")}]'.encode()
    assert problems(same_line) == [(1, "20261101,A already appears earlier on this line.")]
    other_line = f'[{row.format("A")},{row.format("B")},\n{row.format("C")},{row.format("B")}]'.encode()
    assert problems(other_line) == [(2, "20261101,B already appears on line 1.")]


# §6: a quoted CSV field that holds a line break.
@pytest.mark.parametrize("text,line", [
    ('day,event,count\n"2026\n1101",A,"1\n2"\n20261102,A,1\n', 2),
    ('day,event,count\n20261101,A,1\n\n20261102,"A\nB",1\n', 4),
    ('day,event,count\n20261101,A,1\r\n20261102,"A\r\nB",1\r\n', 3),
])
def test_a_quoted_field_with_a_line_break_is_refused_by_line(any_app, tmp_path, text, line):
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode())
    code, _, err = run(any_app, "import", path)
    assert code == 1
    assert err.splitlines() == [f"{path}:{line}: a quoted field holds a line break, which no day, event or count "
                                "may hold.", "Error: Nothing was written: 1 bad row."]
    assert stored(any_app) == {}


# §2: one import of a file at a time per store.
def test_a_second_import_of_the_same_file_while_one_runs_is_refused(any_app, tmp_path, monkeypatch):
    import counter_app.storage.sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "CHUNK", 10)
    path = tmp_path / "conc.csv"
    path.write_text("day,event,count\n" + "".join(f"{20250101 + n % 28},E{n},1\n" for n in range(200)))
    store = get_store_of(any_app)
    original, second = store.write_many, []

    def write_many(rows, **options):
        done = options["done"]

        def confirmed(indices):
            done(indices)
            if not second:  # the first chunk is written: start the same import again, as a second shell would
                second.append(run(any_app, "import", path))

        original(rows, **{**options, "done": confirmed})

    monkeypatch.setattr(store, "write_many", write_many)
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    code, _, err = second[0]
    assert code == 1 and err == (
        "Error: Nothing was written: another run is importing this file into this store; "
        "wait for it to end (a run killed on another machine gives the file up within 60 seconds).\n")
    assert total(any_app) == 200


def test_a_run_whose_lease_was_taken_over_stops(any_app, tmp_path, monkeypatch):
    import hashlib

    import counter_app.lease
    import counter_app.storage.sqlite as sqlite_backend
    from counter_app.storage import Lease

    monkeypatch.setattr(sqlite_backend, "CHUNK", 10)
    monkeypatch.setattr(counter_app.lease, "RENEW", 0.01)  # renewals run, and see the lease gone at once
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n" + "".join(f"{day(n)},E,1\n" for n in range(200)))
    name = hashlib.sha256(path.read_bytes()).hexdigest()
    store = get_store_of(any_app)
    original = store.write_many

    def write_many(rows, **options):
        done = options["done"]

        def confirmed(indices):
            done(indices)
            # As a run would after this one stalled past its lease: it takes the file over.
            store.take_lease(Lease(name, "thief"), now=time.time() + 3600, until=time.time() + 7200)
            time.sleep(0.1)

        original(rows, **{**options, "done": confirmed})

    monkeypatch.setattr(store, "write_many", write_many)
    code, _, err = run(any_app, "import", path)
    assert code == 1 and ("another run took this import over" in err or "another run took its import over" in err)
    assert total(any_app) < 200
    assert store.take_lease(Lease(name, "next"), now=time.time(), until=time.time() + 1) == "thief"  # left alone


def test_a_lease_left_by_a_killed_run_expires(any_app, tmp_path):
    import hashlib

    from counter_app.storage import Lease

    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20261101,A,1\n")
    name = hashlib.sha256(path.read_bytes()).hexdigest()
    store = get_store_of(any_app)
    elsewhere = "another-host 1 x"
    assert store.take_lease(Lease(name, elsewhere), now=time.time(), until=time.time() + 30) is None
    code, _, err = run(any_app, "import", path)
    assert code == 1 and "another run is importing this file" in err
    assert store.take_lease(Lease(name, "other"), now=time.time(), until=time.time() + 30) == elsewhere
    assert store.take_lease(Lease(name, elsewhere), now=time.time(), until=time.time() - 1) is None  # it ran out
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert stored(any_app) == {20261101: {"A": 1}}
    assert store.take_lease(Lease(name, "next"), now=time.time(), until=time.time() + 30) is None  # given up


def test_a_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once(any_app, tmp_path):
    import hashlib
    import socket

    from counter_app.storage import Lease

    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20261101,A,1\n")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lease = Lease(hashlib.sha256(path.read_bytes()).hexdigest(), f"{socket.gethostname()} {gone.pid} x")
    assert get_store_of(any_app).take_lease(lease, now=time.time(), until=time.time() + 3600) is None
    code, _, err = run(any_app, "import", path)
    assert code == 0, err


# §3: a SQLite import killed anywhere, then run again as advised, adds each row once.
DRIVER = """
import os, signal, sys
import counter_app.storage.sqlite as backend
backend.CHUNK, backend.CHECKPOINT_EVERY = 10, 5
checkpoint, how, at, seen = backend.SQLiteStorage._checkpoint, sys.argv[2], int(sys.argv[3]), [0]
def dying(self, conn):
    # Right after a chunk's commit; at a multiple of CHECKPOINT_EVERY the log's RESTART would run next.
    seen[0] += self._local.statements + 1 >= backend.CHECKPOINT_EVERY if how.endswith("checkpoint") else 1
    if seen[0] == at:
        os.kill(os.getpid(), signal.SIGINT if how.startswith("int") else signal.SIGKILL)
    checkpoint(self, conn)
backend.SQLiteStorage._checkpoint = dying
from counter_app import create_app
create_app().cli.main(["import", sys.argv[1]], prog_name="flask")
"""


def sqlite_import(tmp_path, path, how="none", at=0):
    env = {**os.environ, "COUNTER_STORE": f"sqlite:///{tmp_path}/counter.sqlite3", "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-c", DRIVER, str(path), how, str(at)], env=env, capture_output=True,
                          text=True, timeout=120)


def sqlite_counts(tmp_path) -> dict[tuple[int, str], int]:
    with sqlite3.connect(tmp_path / "counter.sqlite3") as db:
        return {(d, e): n for d, e, n in db.execute("SELECT day, event, count FROM TEST_counters WHERE day > 1")}


@pytest.mark.parametrize("kills", [
    [("kill-checkpoint", 1), ("kill-checkpoint", 3)],  # the window: between a commit and the log's restart
    [("int-checkpoint", 2), ("int-checkpoint", 1)],  # Ctrl-C there
    [("kill-any", at) for at in random.Random(19).sample(range(2, 40), 3)],  # after any statement
])
def test_a_killed_sqlite_import_run_again_adds_each_row_once(tmp_path, kills):
    rows = {(day(n % 300), f"E{n % 7}"): n % 5 + 1 for n in range(400)}
    path = tmp_path / "big.csv"
    path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for (d, e), n in rows.items()))
    for how, at in kills:
        result = sqlite_import(tmp_path, path, how, at)
        assert result.returncode in (1, -signal.SIGKILL), result.stderr
        if how.startswith("int"):
            assert "run the same command again to write the rest" in result.stderr
    result = sqlite_import(tmp_path, path)
    assert result.returncode == 0, result.stderr
    assert "Resuming:" in result.stderr
    assert sqlite_counts(tmp_path) == rows
    assert not (tmp_path / "big.csv.progress").exists()  # the store keeps it


def test_a_sqlite_import_killed_at_random_times_adds_each_row_once(tmp_path):
    rows = {(day(n % 1000), f"E{n % 13}"): 1 for n in range(13_000)}
    path = tmp_path / "big.csv"
    path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for (d, e), n in rows.items()))
    env = {**os.environ, "COUNTER_STORE": f"sqlite:///{tmp_path}/counter.sqlite3", "PYTHONPATH": ROOT}
    pick, kills = random.Random(3), 0
    while kills < 3:
        process = subprocess.Popen([sys.executable, "-c", DRIVER, str(path), "none", "0"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = sum(sqlite_counts_or_none(tmp_path).values())
        while process.poll() is None and sum(sqlite_counts_or_none(tmp_path).values()) <= before:
            time.sleep(0.01)  # until it writes
        time.sleep(pick.uniform(0, 0.2))
        process.send_signal(signal.SIGKILL)
        if process.wait() == 0:
            break
        kills += 1
    result = sqlite_import(tmp_path, path)
    assert result.returncode == 0 or "was imported in full into this store" in result.stderr, result.stderr
    assert kills and sqlite_counts(tmp_path) == rows


def sqlite_counts_or_none(tmp_path) -> dict[tuple[int, str], int]:
    """The counts, or none while the store is being made."""
    try:
        return sqlite_counts(tmp_path)
    except sqlite3.Error:
        return {}


# §4: a DynamoDB import killed outright says, when run again, what may have been added twice.
def test_a_dynamodb_rerun_after_a_kill_states_the_bound(dynalite, monkeypatch, tmp_path):
    from counter_app.storage.dynamodb import EVENTS_PER_UPDATE, WORKERS
    from counter_app.transfer import store_key

    app = dynalite_app(dynalite, monkeypatch)
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20261101,A,1\n20261102,A,1\n20261103,A,1\n")
    with app.app_context():
        key = store_key(__import__("hashlib").sha256(path.read_bytes()).hexdigest())
    seed(app, [(20261101, "A", 1)])
    (tmp_path / "in.csv.progress").write_text(f"key {key}\nthrough 1\n")  # as a run killed after one row leaves it
    code, _, err = run(app, "import", path)
    assert code == 0, err
    bound = WORKERS * EVENTS_PER_UPDATE
    assert err.splitlines()[:2] == [
        "Resuming: 1 row was written by an earlier run.",
        f"The earlier run was killed while writing: up to {bound} rows it had sent may have been added without "
        "being recorded, and are added again (docs/transfer.md).",
    ]
    assert stored(app) == {20261101: {"A": 1}, 20261102: {"A": 1}, 20261103: {"A": 1}}


# §5: a progress record that cannot be written, and a long file name.
def test_a_progress_file_that_cannot_be_written_stops_before_any_write(dynalite, monkeypatch, tmp_path):
    app = dynalite_app(dynalite, monkeypatch)
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20261101,A,1\n")
    (tmp_path / "in.csv.progress").mkdir()  # unwritable, even for root
    code, _, err = run(app, "import", path)
    assert code == 1 and "Traceback" not in err
    assert err == (f"Error: Nothing was written: {path}.progress, where this import records its progress so that a "
                   "rerun resumes, cannot be written (Is a directory): import a copy of the file from a folder you "
                   "can write to, under a shorter name.\n")
    assert stored(app) == {}


def test_a_file_name_of_250_characters_imports_or_is_refused_in_one_line(any_app, tmp_path):
    path = tmp_path / ("x" * 246 + ".csv")
    path.write_text("day,event,count\n20261101,A,1\n")
    code, _, err = run(any_app, "import", path)
    if get_store_of(any_app).keeps_progress:  # SQLite: the progress is in the store, no file needed
        assert code == 0 and stored(any_app) == {20261101: {"A": 1}}, err
    else:
        assert code == 1 and "(File name too long)" in err and len(err.splitlines()) == 1
        assert stored(any_app) == {}


# §7: a DynamoDB day whose names cannot fit in one item.
def test_a_day_too_big_for_one_item_is_refused_before_writing(dynalite, monkeypatch, tmp_path):
    app = dynalite_app(dynalite, monkeypatch)
    path = tmp_path / "wide.csv"
    names = [f"{n:05d}".ljust(64, "N") for n in range(6_300)]  # 6,300 x (64 + 2) bytes: more than 400 KB
    path.write_text("day,event,count\n20261102,A,1\n" + "".join(f"20261101,{name},1\n" for name in names))
    code, _, err = run(app, "import", path)
    assert code == 1
    assert err == ("Error: Nothing was written: day 20261101 has 6,300 events, which need 415,800 bytes in one item "
                   "of this store, more than the 409,500 it holds; no run can import this file.\n")
    assert stored(app) == {}
    assert not (tmp_path / "wide.csv.progress").exists()


def test_a_day_that_fills_its_item_midway_advises_no_rerun(dynalite, monkeypatch, tmp_path):
    app = dynalite_app(dynalite, monkeypatch)
    seed(app, [(20261101, f"{n:05d}".ljust(64, "S"), 1) for n in range(3_300)])  # names the day holds already
    path = tmp_path / "wide.csv"
    path.write_text("day,event,count\n" + "".join(f"20261101,{n:05d}".ljust(73, "N") + ",1\n" for n in range(3_300)))
    code, _, err = run(app, "import", path)
    assert code == 1 and "run the same command again" not in err
    assert "so a rerun would stop at the same place" in err.splitlines()[-1]


# §8: the counter limit.
def test_the_counter_limit_message_says_the_batch_was_rolled_back(any_app, tmp_path):
    from counter_app.storage import MAX_COUNT

    seed(any_app, [(20261102, "A", MAX_COUNT)])
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20261102,B,1\n20261102,A,1\n")
    code, _, err = run(any_app, "import", path)
    assert code == 1
    assert err.splitlines()[-1].endswith(
        "no counter holds more, so this file cannot be imported in full. 0 rows are written, and the rest are not: "
        "the batch that holds that row was rolled back whole.")
    assert stored(any_app) == {20261102: {"A": MAX_COUNT}}  # B, in the same batch, was rolled back with it


def test_a_dynamodb_import_stopped_by_ctrl_c_or_killed_adds_what_the_docs_say(dynalite, monkeypatch, tmp_path):
    """Ctrl-C: the calls in flight finish and are recorded, so a rerun is exact. A kill: at most the calls in flight."""
    from counter_app.storage.dynamodb import EVENTS_PER_UPDATE, WORKERS

    app = dynalite_app(dynalite, monkeypatch)
    rows = {(day(n % 400), f"E{n // 400}"): 1 for n in range(4_000)}
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for (d, e), n in rows.items()))
    env = {**os.environ, "COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": app.config["TABLE_PREFIX"],
           "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import", str(path)]
    journal = tmp_path / "in.csv.progress"
    for how in (signal.SIGINT, signal.SIGKILL):
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        while process.poll() is None and (len(journal.read_text().splitlines()) if journal.exists() else 0) < 10:
            time.sleep(0.01)  # until some calls are confirmed
        process.send_signal(how)
        stderr = process.communicate(timeout=60)[1]
        assert process.returncode == (1 if how == signal.SIGINT else -signal.SIGKILL), stderr
        if how == signal.SIGINT:
            assert "Stopped (interrupted): run the same command again" in stderr
            result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0 and "Resuming:" in result.stderr and "was killed" not in result.stderr
            assert total(app) == len(rows)  # exact
            app = dynalite_app(dynalite, monkeypatch)  # a fresh table for the kill
            env["COUNTER_TABLE_PREFIX"] = app.config["TABLE_PREFIX"]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "The earlier run was killed while writing: up to 400 rows" in result.stderr
    assert len(rows) <= total(app) <= len(rows) + WORKERS * EVENTS_PER_UPDATE


def test_two_imports_of_one_file_started_together_write_it_once(tmp_path):
    rows = {(day(n % 2000), f"E{n // 2000}"): 1 for n in range(20_000)}
    path = tmp_path / "conc.csv"
    path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for (d, e), n in rows.items()))
    env = {**os.environ, "COUNTER_STORE": f"sqlite:///{tmp_path}/counter.sqlite3", "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import", str(path)]
    both = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = sorted((process.wait(120), process.stderr.read()) for process in both)
    for process in both:
        process.stderr.close()
    assert [code for code, _ in results] == [0, 1], results
    # Refused by the lease while the other ran, or, if it came later, as a file imported in full.
    assert "another run is importing this file" in results[1][1] or "imported in full" in results[1][1]
    assert sqlite_counts(tmp_path) == rows
