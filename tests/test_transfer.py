"""Export and import: file formats, validation, adding and replacing, resuming, and round trips between stores."""

import json

import pytest

from counter_app import transfer
from counter_app.store import get_store
from tests.conftest import dynalite_app

ROWS = [(20240229, "PAGEVIEW", 3), (20261101, "COUNT", 7), (20261101, "SIGN-UP.V2:A/B_C", 1), (20261127, "A", 12)]
CSV = "day,event,count\n" + "".join(f"{d},{e},{n}\n" for d, e, n in ROWS)


def seed(app, rows=ROWS, replace=False):
    with app.app_context():
        get_store().write_many(rows, replace=replace)


def stored(app):
    with app.app_context():
        return get_store().dump()


def run(app, *args):
    result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_export_csv_to_stdout_and_json_to_file(any_app, tmp_path):
    seed(any_app)
    code, out, err = run(any_app, "export")
    assert code == 0 and out == CSV and "Exported 4 rows" in err
    code, _, _ = run(any_app, "export", "--format", "json", "--output", tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text()
    assert json.loads(text) == [{"day": d, "event": e, "count": n} for d, e, n in ROWS]
    assert len(text.splitlines()) == len(ROWS) + 2  # one row a line, between the brackets


def test_export_range(any_app):
    seed(any_app)
    _, out, _ = run(any_app, "export", "--from", 20261101, "--to", 20261101)
    assert out == "day,event,count\n20261101,COUNT,7\n20261101,SIGN-UP.V2:A/B_C,1\n"
    _, out, _ = run(any_app, "export", "--from", 20261102)
    assert out == "day,event,count\n20261127,A,12\n"
    _, out, _ = run(any_app, "export", "--to", 20250101)
    assert out == "day,event,count\n20240229,PAGEVIEW,3\n"


def test_export_bad_day_is_refused(app):
    code, _, err = run(app, "export", "--from", "2026-11-01")
    assert code == 2 and "YYYYMMDD" in err


def test_import_adds_then_replace_sets(any_app, tmp_path):
    seed(any_app, [(20261101, "COUNT", 100), (20261101, "OTHER", 5)])
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    assert run(any_app, "import", path)[0] == 0
    assert stored(any_app)[20261101] == {"COUNT": 107, "OTHER": 5, "SIGN-UP.V2:A/B_C": 1}
    code, _, err = run(any_app, "import", path, "--replace")
    assert code == 0 and "Set 4 rows" in err
    assert stored(any_app) == {20240229: {"PAGEVIEW": 3}, 20261101: {"COUNT": 7, "OTHER": 5, "SIGN-UP.V2:A/B_C": 1},
                               20261127: {"A": 12}}
    assert not (tmp_path / "in.csv.progress").exists()


BAD = [
    ("day,event,count\n2026110,A,1\n", [(2, "YYYYMMDD")]),
    ("day,event,count\n20260230,A,1\n", [(2, "real calendar date")]),
    ("day,event,count\n20261101,a b,1\n", [(2, "event name")]),
    ("day,event,count\n20261101,A,-1\n20261101,B,1.5\n20261101,C,x\n", [(2, "count"), (3, "count"), (4, "count")]),
    ("day,event,count\n20261101,A,99999999999999999999\n", [(2, "count")]),
    ("day,event,count\n20261101,A\n\n20261101,A,1,2\n", [(2, "three fields"), (4, "three fields")]),
    ("day,event,count\n20261101,A,1\n20261101,a,2\n", [(3, "already appears on line 2")]),
    ("date,name,n\n20261101,A,1\n", [(1, "header")]),
    ('[\n{"day": 20261101, "event": "A", "count": 1},\n{"day": "20261101", "event": "B", "count": true},\n'
     '{"day": 20261101, "event": "C"},\n["20261101", "D", "1"]\n]', [(3, "count"), (4, "exactly"), (5, "object")]),
    ('[{"day": 20261101, "event": "A", "count": 1},\n\n{"day": 2026, "event": "B", "count": 1}]', [(3, "YYYYMMDD")]),
    ('[\n{"day": 20261101, "event": "A", "count": 1}\n{"day": 20261102}]', [(3, "not valid JSON")]),
    ('[{"day": 20261101, "event": "A", "count": 1}] x', [(1, "not valid JSON")]),
    ("[\n", [(2, "not valid JSON")]),
]


@pytest.mark.parametrize("text,expected", BAD)
def test_bad_rows_are_reported_by_line(text, expected):
    with pytest.raises(transfer.Rejected) as caught:
        transfer.read(text.encode())
    assert [line for line, _ in caught.value.problems] == [line for line, _ in expected]
    for (_, problem), (_, words) in zip(caught.value.problems, expected):
        assert words in problem


def test_good_files_parse_with_their_lines():
    assert transfer.read(b"\xef\xbb\xbfday,event,count\r\n20261101, pageview ,0\r\n") == [
        transfer.Row(2, 20261101, "PAGEVIEW", 0)
    ]
    assert transfer.read(b' [ ]\n') == []
    assert transfer.read(b'[{"event": "a", "count": 2, "day": "20261101"}]') == [transfer.Row(1, 20261101, "A", 2)]


def test_a_bad_row_anywhere_writes_nothing(any_app, tmp_path):
    seed(any_app, [(20261101, "A", 1)])
    path = tmp_path / "in.csv"
    path.write_text(CSV + "".join(f"2026110{n},B,{n}\n" for n in range(1, 8)) + "20261199,B,1\n")
    code, _, err = run(any_app, "import", path)
    assert code == 1
    assert f"{path}:13: 'day' is not a real calendar date: 20261199." in err
    assert "Nothing was written: 1 bad row(s)." in err
    assert stored(any_app) == {20261101: {"A": 1}}


def test_many_bad_rows_are_summed_up(runner, app, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n" + "x,A,1\n" * 25)
    result = runner.invoke(args=["import", str(path)])
    assert result.stderr.count("YYYYMMDD") == 20 and "... and 5 more." in result.stderr


def failing_after(app, monkeypatch, writes):
    """Make the store fail after ``writes`` confirmed writes, as a dropped connection would."""
    from counter_app.storage import StoreUnavailable

    with app.app_context():
        store = get_store()
    name = "_update" if hasattr(store, "_update") else "_errors"
    original, calls = getattr(store, name), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) > writes:
            raise StoreUnavailable("connection dropped")
        return original(*args, **kwargs)

    monkeypatch.setattr(store, name, flaky)
    return lambda: monkeypatch.setattr(store, name, original)


def test_interrupted_add_resumes_without_counting_twice(any_app, tmp_path, monkeypatch):
    import counter_app.storage.sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "CHUNK", 10)
    rows = [(20250101 + n, "A", n + 1) for n in range(28)] + [(20250201 + n, "B", 1) for n in range(28)]
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for d, e, n in rows))
    seed(any_app, [(20250101, "A", 1000)])
    restore = failing_after(any_app, monkeypatch, 3)
    code, _, err = run(any_app, "import", path)
    assert code == 1 and "run the same command again" in err
    journal = tmp_path / "in.csv.progress"
    assert journal.exists()
    restore()
    partly = sum(n for counts in stored(any_app).values() for n in counts.values())
    assert 1000 < partly < 1000 + sum(n for _, _, n in rows)
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert "Resuming" in err
    expected = {d: {e: n} for d, e, n in rows}
    expected[20250101] = {"A": 1001}
    assert stored(any_app) == expected
    assert not journal.exists()


def test_journal_of_another_store_is_refused(tmp_path):
    from counter_app import create_app

    path = tmp_path / "in.csv"
    path.write_text(CSV)
    (tmp_path / "in.csv.progress").write_text("key 0123\n2\n")
    app = create_app({"STORE": f"sqlite:///{tmp_path}/other.sqlite3"})
    code, _, err = run(app, "import", path)
    assert code == 1 and "belongs to another file or store" in err
    assert stored(app) == {}


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("direction", ["sqlite-to-dynamodb", "dynamodb-to-sqlite"])
def test_round_trip_between_stores_is_identical(app, dynalite, monkeypatch, tmp_path, fmt, direction):
    dynamo = dynalite_app(dynalite, monkeypatch)
    source, target = (app, dynamo) if direction == "sqlite-to-dynamodb" else (dynamo, app)
    many = [(20250101 + n % 28 + 100 * (n // 28 % 12), f"E{n % 7}", n * 37 % 1000 + 1) for n in range(400)]
    seed(source, list(dict(((d, e), (d, e, n)) for d, e, n in many + ROWS).values()))
    first, second = tmp_path / f"first.{fmt}", tmp_path / f"second.{fmt}"
    assert run(source, "export", "--format", fmt, "--output", first)[0] == 0
    code, _, err = run(target, "import", first)
    assert code == 0, err
    assert run(target, "export", "--format", fmt, "--output", second)[0] == 0
    assert second.read_bytes() == first.read_bytes()
    assert len(first.read_text().splitlines()) > 300


def test_store_set_and_write_many_keep_other_events(any_app):
    with any_app.app_context():
        store = get_store()
        store.incr(20261101, "A", 5)
        store.incr(20261101, "B", 2)
        store.set(20261101, "A", 1)
        done = []
        store.write_many([(20261101, "B", 3), (20261102, "B", 4)], done=done.extend)
        assert sorted(done) == [0, 1]
        store.write_many([(20261102, "C", 9)], replace=True)
        assert store.dump() == {20261101: {"A": 1, "B": 5}, 20261102: {"B": 4, "C": 9}}
        assert store.dump(20261102, 20261102) == {20261102: {"B": 4, "C": 9}}
        assert store.dump(20261103) == {}


def test_two_runs_failing_at_once_leave_a_journal_that_resumes(any_app, tmp_path, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20250101,A,1\n20250102,A,2\n")
    for _ in range(2):  # each run fails before any batch is confirmed
        restore = failing_after(any_app, monkeypatch, 0)
        assert run(any_app, "import", path)[0] == 1
        restore()
    assert (tmp_path / "in.csv.progress").read_text().count("key ") == 1
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert stored(any_app) == {20250101: {"A": 1}, 20250102: {"A": 2}}


def test_deeply_nested_json_file_is_rejected_by_line(any_app, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" + "[" * 100_000 + "]" * 100_000 + "]")
    code, _, err = run(any_app, "import", path)
    assert code == 1 and "nested too deeply" in err
    assert stored(any_app) == {}
