"""Export and import: file formats, validation, adding and replacing, resuming, and round trips between stores."""

import io
import json

import pytest

from counter_app import reader
from counter_app.store import get_store
from tests.conftest import dynalite_app

ROWS = [(20240229, "PAGEVIEW", 3), (20261101, "COUNT", 7), (20261101, "SIGN-UP.V2:A/B_C", 1), (20261127, "A", 12)]
CSV = "day,event,count,visitors\n" + "".join(f"{d},{e},{n},0\n" for d, e, n in ROWS)  # imported days: no visitors


def seed(app, rows=ROWS, replace=False):
    with app.app_context():
        get_store().write_many(rows, replace=replace)


def get_store_of(app):
    with app.app_context():
        return get_store()


def stored(app):
    with app.app_context():
        return dict(get_store().dump())


def read(data: bytes) -> list[reader.Row]:
    """The rows of a file, as the import's first pass checks them."""
    with reader.Checked(io.BytesIO(data)) as checked:
        return list(checked.rows())


def problems(data: bytes) -> list[tuple[int, str]]:
    """``(line, reason)`` of every problem the first pass finds, the whole file's among them (line 0: none)."""
    with pytest.raises(reader.Rejected) as caught:
        read(data)
    found = caught.value.problems
    return sorted(found.listed + ([(found.file.line, found.file.detail)] if found.file else []))


def run(app, *args):
    result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_export_csv_to_stdout_and_json_to_file(any_app, tmp_path):
    seed(any_app)
    code, out, err = run(any_app, "export")
    assert code == 0 and out == CSV and err == "Exported 4 rows.\n"
    code, _, _ = run(any_app, "export", "--format", "json", "--output", tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text()
    assert json.loads(text) == [{"day": d, "event": e, "count": n, "visitors": 0} for d, e, n in ROWS]
    assert len(text.splitlines()) == len(ROWS) + 2  # one row a line, between the brackets


def test_export_range(any_app):
    seed(any_app)
    _, out, _ = run(any_app, "export", "--from", 20261101, "--to", 20261101)
    assert out == "day,event,count,visitors\n20261101,COUNT,7,0\n20261101,SIGN-UP.V2:A/B_C,1,0\n"
    _, out, _ = run(any_app, "export", "--from", 20261102)
    assert out == "day,event,count,visitors\n20261127,A,12,0\n"
    _, out, _ = run(any_app, "export", "--to", 20250101)
    assert out == "day,event,count,visitors\n20240229,PAGEVIEW,3,0\n"


def test_export_bad_day_is_refused(app):
    code, _, err = run(app, "export", "--from", "2026-11")
    assert code == 2 and "YYYYMMDD" in err


def test_export_from_after_to_is_an_error(app):
    seed(app)
    code, out, err = run(app, "export", "--from", 20261130, "--to", 20261101)
    assert code == 2 and out == ""
    assert "'--from' 20261130 is after '--to' 20261101" in err


def test_export_takes_iso_days_and_counts_one_row(app):
    seed(app)
    code, out, err = run(app, "export", "--from", "2026-11-27", "--to", "2026-11-27", "--format", "json")
    assert code == 0 and json.loads(out) == [{"day": 20261127, "event": "A", "count": 12, "visitors": 0}]
    assert err == "Exported 1 row.\n"
    code, out, err = run(app, "export", "--from", 20300101, "--format", "json")
    assert (code, out, err) == (0, "[\n\n]\n", "Exported 0 rows.\n")


def test_import_adds_then_replace_sets(any_app, tmp_path):
    seed(any_app, [(20261101, "COUNT", 100), (20261101, "OTHER", 5)])
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert stored(any_app)[20261101] == {"COUNT": 107, "OTHER": 5, "SIGN-UP.V2:A/B_C": 1}
    code, _, err = run(any_app, "import", path, "--replace")
    assert code == 0 and "Set 4 rows." in err
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
    ("day,event,count\n20261101,A,1\n20261101,a,2\n2026-11-01,A,3\n",
     [(3, "20261101,A already appears on line 2"), (4, "20261101,A already appears on line 2")]),
    ("day,event,count\n20261101,A,1\n" + "".join(f"2026{m:02d}01,B,1\n" for m in range(1, 13)) + "20261101,A,1\n",
     [(15, "already appears on line 2")]),
    ("date,name,n\n20261101,A,1\n", [(1, "the first line must be the header day,event,count, not 'date,name,n'")]),
    ("20261101,A,1\n", [(1, "header")]),
    ("", [(0, "the file is empty")]),
    ("\ufeff \n\t\n", [(0, "the file is empty")]),
    ('{"day": 20261101, "event": "A", "count": 1}', [(1, "a JSON object or JSON lines")]),
    ('\n{"day": 20261101, "event": "A", "count": 1}\n{"day": 20261102, "event": "A", "count": 1}\n',
     [(2, "JSON lines: import reads a JSON array")]),
    ('[\n{"day": 20261101, "event": "A", "count": 1},\n{"day": "20261101", "event": "B", "count": true},\n'
     '{"day": 20261101, "event": "C"},\n["20261101", "D", "1"]\n]', [(3, "count"), (4, "exactly"), (5, "object")]),
    ('[{"day": 20261101, "event": "A", "count": 1},\n\n{"day": 2026, "event": "B", "count": 1}]', [(3, "YYYYMMDD")]),
    ('[\n{"day": 20261101, "event": "A", "count": 1}\n{"day": 20261102}]', [(3, "not valid JSON")]),
    ('[{"day": 20261101, "event": "A", "count": 1}] x', [(1, "not valid JSON: extra data")]),
    ("[\n", [(2, "not valid JSON")]),
    ("[\n" + "".join(f'{{"day": 2026110{n}, "event": "A", "count": 1}},\n' for n in (1, 2, 3)) + "]",
     [(5, "not valid JSON: Expecting value")]),
    ("day,event,count\n20261101,A,1\n20261102,\xff,1\n", [(3, "not UTF-8 text")]),
]


@pytest.mark.parametrize("text,expected", BAD)
def test_bad_rows_are_reported_by_line(text, expected):
    found = problems(text.encode("utf-8", "surrogateescape") if "\xff" not in text else text.encode("latin-1"))
    assert [line for line, _ in found] == [line for line, _ in expected]
    for (_, problem), (_, words) in zip(found, expected):
        assert words in problem


def test_good_files_parse_with_their_lines():
    assert read(b"\xef\xbb\xbfday,event,count\r\n20261101, pageview ,0\r\n") == [
        reader.Row(1, 2, 20261101, "PAGEVIEW", 0)
    ]
    assert read(b' [ ]\n') == []
    assert read(b'[{"event": "a", "count": 2, "day": "2026-11-01"}]') == [reader.Row(1, 1, 20261101, "A", 2)]
    assert read(b"day,event,count\n") == []


def test_rows_cut_across_pieces_keep_their_lines(monkeypatch):
    monkeypatch.setattr(reader, "PIECE", 7)  # every row spans several reads
    rows = [(20261101 + n % 28, f"EVENT{n}", n * 1234567) for n in range(60)]
    text = "[\n" + ",\n".join(json.dumps({"day": d, "event": e, "count": n}) for d, e, n in rows) + "\n]"
    assert read(text.encode()) == [reader.Row(n + 1, n + 2, d, e, c) for n, (d, e, c) in enumerate(rows)]
    csv_text = "day,event,count\n" + "".join(f"{d},{e},{c}\n" for d, e, c in rows)
    assert read(csv_text.encode()) == [reader.Row(n + 1, n + 2, d, e, c) for n, (d, e, c) in enumerate(rows)]
    # A number cut by a read is read whole: one bad row, not a row and a syntax error.
    assert problems(b"[1" + b"2" * 30 + b"]") == [(1, reader._OBJECT)]


def test_a_field_over_128_kib_is_a_bad_row_not_a_crash(any_app, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("day,event,count\n20261101,A,1\n20261102," + "B" * 140_000 + ",1\n20261103,C,x\n")
    code, _, err = run(any_app, "import", path)
    assert code == 1 and "Traceback" not in err
    assert err.splitlines() == [
        f"{path}:3: a field is longer than 128 KiB.",
        f"{path}:4: 'count' must be a whole number from 0 to 9,223,372,036,854,775,807.",
        "Error: Nothing was written: 2 bad rows.",
    ]
    assert stored(any_app) == {}


def test_a_line_over_1_mib_is_read_no_further(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_LINE", 1000)
    monkeypatch.setattr(reader, "PIECE", 100)  # as in use, a piece is far shorter than the longest line
    assert problems(b"day,event,count\n" + b"x" * 5000 + b"\n20261101,A,x\n") == [
        (2, "the line is longer than 1 MiB."),
        (3, "'count' must be a whole number from 0 to 9,223,372,036,854,775,807."),
    ]
    assert problems(b'[{"day": 20261101, "event": "' + b"A" * 5000 + b'", "count": 1}]') == [
        (1, "not valid JSON: a row is longer than 1 MiB.")]


@pytest.mark.parametrize("text,summary", [
    ("", "Nothing was written: the file is empty."),
    ("date,name,n\n", "Nothing was written: the file's first line is not the header day,event,count."),
    ('{"day": 20261101, "event": "A", "count": 1}\n', "Nothing was written: the file is a JSON object or JSON lines, "
                                                     "not a JSON array."),
    ('[{"day": 1, "event": "A", "count": 1}\n{',
     "Nothing was written: the file is not valid JSON, and it has 1 bad row."),
    ("day,event,count\n20261101,A,x\n", "Nothing was written: 1 bad row."),
])
def test_whole_file_problems_are_said_as_what_they_are(app, tmp_path, text, summary):
    path = tmp_path / "in.txt"
    path.write_text(text)
    code, _, err = run(app, "import", path)
    assert code == 1 and err.splitlines()[-1] == f"Error: {summary}"
    assert err.splitlines()[0].startswith(f"{path}:")


def test_a_bad_row_anywhere_writes_nothing(any_app, tmp_path):
    seed(any_app, [(20261101, "A", 1)])
    path = tmp_path / "in.csv"
    path.write_text(CSV + "".join(f"2026110{n},B,{n},0\n" for n in range(1, 8)) + "20261199,B,1,0\n")
    code, _, err = run(any_app, "import", path)
    assert code == 1
    assert f"{path}:13: 'day' is not a real calendar date: 20261199." in err
    assert "Nothing was written: 1 bad row." in err
    assert stored(any_app) == {20261101: {"A": 1}}


def test_many_bad_rows_are_summed_up(runner, app, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n" + "x,A,1\n" * 25)
    result = runner.invoke(args=["import", str(path)])
    assert result.stderr.count("YYYYMMDD") == 20 and "... and 5 more bad rows." in result.stderr
    assert result.stderr.endswith("Error: Nothing was written: 25 bad rows.\n")


def failing_after(app, monkeypatch, writes):
    """Make the store fail after ``writes`` confirmed writes, as a dropped connection would."""
    from counter_app.storage import StoreUnavailable

    with app.app_context():
        store = get_store()
    name = "_update" if hasattr(store, "_update") else "_transaction"  # a chunk's transaction on SQLite
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
    assert journal.exists() == (not get_store_of(any_app).keeps_progress)  # SQLite keeps it in the store
    restore()
    partly = sum(n for counts in stored(any_app).values() for n in counts.values())
    assert 1000 < partly < 1000 + sum(n for _, _, n in rows)
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert "Resuming" in err and "were written by an earlier run" in err
    expected = {d: {e: n} for d, e, n in rows}
    expected[20250101] = {"A": 1001}
    assert stored(any_app) == expected
    assert not journal.exists()


def test_journal_of_another_store_is_refused(dynalite, monkeypatch, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    (tmp_path / "in.csv.progress").write_text("key 0123\n2\n")
    app = dynalite_app(dynalite, monkeypatch)  # SQLite keeps its progress in the store, never in a file
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
        store.write_many(iter([(20261101, "B", 3), (20261102, "B", 4)]), done=done.extend)
        assert sorted(done) == [0, 1]
        store.write_many([(20261102, "C", 9)], replace=True)
        assert list(store.dump()) == [(20261101, {"A": 1, "B": 5}), (20261102, {"B": 4, "C": 9})]
        assert list(store.dump(20261102, 20261102)) == [(20261102, {"B": 4, "C": 9})]
        assert list(store.dump(20261103)) == []


def test_runs_failing_before_any_write_leave_nothing_to_resume(any_app, tmp_path, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text("day,event,count\n20250101,A,1\n20250102,A,2\n")
    for _ in range(2):  # each run fails before any write is confirmed
        restore = failing_after(any_app, monkeypatch, 0)
        code, _, err = run(any_app, "import", path)
        assert code == 1 and "connection dropped" in err
        restore()
    assert not (tmp_path / "in.csv.progress").exists()
    assert stored(any_app) == {}
    code, _, err = run(any_app, "import", path)
    assert code == 0, err
    assert stored(any_app) == {20250101: {"A": 1}, 20250102: {"A": 2}}


def test_deeply_nested_json_file_is_rejected_by_line(any_app, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" + "[" * 100_000 + "]" * 100_000 + "]")
    code, _, err = run(any_app, "import", path)
    assert code == 1 and "nested too deeply" in err
    assert stored(any_app) == {}


def test_the_same_complete_file_twice_is_refused_unless_again(any_app, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    code, _, err = run(any_app, "import", path)
    assert code == 0 and err.endswith("Added 4 rows.\n")
    code, _, err = run(any_app, "import", path)
    assert code == 1
    assert err == (f"Error: Nothing was written: {path} was imported in full into this store on 2026-11-27 12:00 UTC, "
                   "and importing it again would add its counts twice (give --again to do that).\n")
    once = {d: {e: n} for d, e, n in ROWS if d != 20261101} | {20261101: {"COUNT": 7, "SIGN-UP.V2:A/B_C": 1}}
    assert stored(any_app) == once
    copy = tmp_path / "renamed.csv"  # the record is of the content, whatever the file is called
    copy.write_bytes(path.read_bytes())
    assert run(any_app, "import", copy)[0] == 1
    assert run(any_app, "import", path, "--replace")[0] == 0  # setting the same counts again is harmless
    assert stored(any_app) == once
    code, _, err = run(any_app, "import", path, "--again")
    assert code == 0 and err.endswith("Added 4 rows.\n")
    assert stored(any_app)[20261127] == {"A": 24}


def test_the_record_lives_in_the_sqlite_file_and_each_store_has_its_own(app, tmp_path):
    import sqlite3

    from counter_app import create_app

    path = tmp_path / "in.csv"
    path.write_text(CSV)
    assert run(app, "import", path)[0] == 0
    database = app.config["STORE"].removeprefix("sqlite:///")
    records = sqlite3.connect(database).execute("SELECT sha256, imported FROM TEST_counters_imports").fetchall()
    assert records == [(__import__("hashlib").sha256(CSV.encode()).hexdigest(), "2026-11-27 12:00 UTC")]
    other = create_app({"STORE": f"sqlite:///{tmp_path}/other.sqlite3", "CLOCK": app.config["CLOCK"]})
    assert run(other, "import", path)[0] == 0
    assert run(other, "import", path)[0] == 1


def test_an_empty_file_and_an_interrupted_one_are_not_recorded(app, tmp_path, monkeypatch):
    empty = tmp_path / "empty.csv"
    empty.write_text("day,event,count\n")
    for _ in range(2):
        where = f"Importing into SQLite file {tmp_path / 'counter.sqlite3'}.\n"
        assert run(app, "import", empty)[1:] == ("", where + "Importing\nAdded 0 rows.\n")
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    restore = failing_after(app, monkeypatch, 0)  # the record is read, then the write fails
    assert run(app, "import", path)[0] == 1
    restore()
    code, _, err = run(app, "import", path)
    assert code == 0 and "Added 4 rows." in err
    assert run(app, "import", path)[0] == 1


def test_memory_stays_flat_as_the_file_grows(app, tmp_path, monkeypatch):
    import tracemalloc
    from datetime import date, timedelta

    import counter_app.storage.sqlite as sqlite_backend

    # Pieces and batches smaller than both files: what is held per piece or batch is the same for both, and
    # only growth shows. The first import loads the modules the others use.
    monkeypatch.setattr(reader, "PIECE", 4096)
    monkeypatch.setattr(reader, "BATCH", 500)
    monkeypatch.setattr(sqlite_backend, "CHUNK", 500)
    peaks = []
    for size in (100, 4_000, 40_000):
        path = tmp_path / f"{size}.csv"
        first = date(2000, 1, 1)
        with path.open("w") as out:
            out.write("day,event,count\n")
            for n in range(size):
                out.write(f"{(first + timedelta(days=n // 10)).strftime('%Y%m%d')},EVENT{n % 10},{n}\n")
        tracemalloc.start()
        try:
            code, _, err = run(app, "import", path)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert code == 0 and f"Added {size:,} rows." in err
    # Ten times the rows, about the same memory: no structure grows with the file (a list of 40,000 rows
    # would add megabytes).
    assert peaks[2] < 1.2 * peaks[1] + 50_000, peaks


def test_an_export_that_fails_midway_leaves_no_file_that_looks_whole(app, tmp_path, monkeypatch):
    """Rows stream out as they are read: a store that fails after some must not leave a CSV that imports."""
    from counter_app.storage import StoreUnavailable

    seed(app)
    with app.app_context():
        store = get_store()
    whole = store.dump

    def fails_midway(*bounds):
        found = whole(*bounds)
        yield next(found)
        raise StoreUnavailable("the store went away")

    monkeypatch.setattr(store, "dump", fails_midway)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "counts.csv"
    code, _, err = run(app, "export", "--output", target)
    assert code == 1 and "unavailable" in err
    assert list(target.parent.iterdir()) == []
    target.write_text("an earlier export\n")
    assert run(app, "export", "--output", target)[0] == 1
    assert target.read_text() == "an earlier export\n"  # kept as it was, not half replaced


def test_a_journal_line_cut_short_by_a_crash_marks_nothing_written(tmp_path):
    """``4005 4012`` cut to ``4005 40`` must not mark line 40 as written."""
    from counter_app.journal import Journal

    path = tmp_path / "in.csv.progress"
    path.write_text("key k\nthrough 3\n4005 40")
    journal = Journal(path, "k")
    journal.close()
    assert (journal.through, journal.done, journal.killed) == (3, set(), True)
