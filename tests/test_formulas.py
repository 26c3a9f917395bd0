"""Exports that a spreadsheet cannot turn into formulas: no accepted name starts with - (or = + @)."""

import csv
import io
import json
import sys

import pytest
from werkzeug.exceptions import BadRequest

from counter_app import create_app, params
from tests.conftest import TODAY

# What Excel, LibreOffice and Sheets take as the start of a formula (OWASP's list for CSV injection),
# with the full-width forms some of them also accept.
FORMULA_STARTERS = set("=+-@\t\r\n|") | set("\uff1d\uff0b\uff0d\uff20")


def run(app, *args):
    result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", ["-A1-B1", "-1", "-", " -SUM(A1:A9)", "\t-X"])
def test_a_name_starting_with_a_minus_is_refused_at_the_endpoint(any_app, name):
    client = any_app.test_client()
    replies = [client.get("/", query_string={"e": name}), client.get("/pixel.gif", query_string={"e": name}),
               client.post("/", data={"e": name}), client.post("/", json={"e": name}),
               client.post("/", data=f"e={name}", content_type="text/plain")]
    for reply in replies:
        assert reply.status_code == 400
        assert "not starting with -" in reply.json["error"]
    assert client.get("/summary").json["totals"] == {}
    assert client.get("/?e=A-1").json["count"] == 1  # a minus inside a name is fine


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_name_starting_with_a_minus_is_refused_by_flask_import(any_app, tmp_path, fmt):
    rows = [(TODAY, "OK", 1), (TODAY, "-A1-B1", 2)]
    path = tmp_path / f"rows.{fmt}"
    if fmt == "csv":
        path.write_text("day,event,count\n" + "".join(f"{d},{e},{n}\n" for d, e, n in rows))
    else:
        objects = [json.dumps({"day": d, "event": e, "count": n}) for d, e, n in rows]
        path.write_text("[\n" + ",\n".join(objects) + "\n]\n")  # one row a line
    code, _, err = run(any_app, "import", path)
    assert code != 0 and "not starting with -" in err
    assert f"{path}:3:" in err  # the line of the bad row, in either format
    assert any_app.test_client().get("/summary").json["totals"] == {}


def test_an_allowlist_with_a_name_starting_with_a_minus_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_EVENTS", "PAGEVIEW,-SIGNUP")
    with pytest.raises(ValueError, match="COUNTER_EVENTS="):
        create_app({"STORE": f"sqlite:///{tmp_path}/f.sqlite3"})


def test_no_character_of_any_kind_starts_an_accepted_name_that_is_a_formula():
    first = set()
    for code in range(sys.maxunicode + 1):
        try:
            first.add(params.event_name(chr(code) + "A1")[0])
        except BadRequest:
            pass
    assert first & FORMULA_STARTERS == set()
    assert first == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/")  # lower case is upper-cased; blanks trimmed


def test_no_exported_cell_starts_a_formula_whatever_first_character_was_sent(any_app):
    client = any_app.test_client()
    accepted = set()
    for code in range(128):
        if client.get("/", query_string={"e": chr(code) + "A1"}).status_code == 200:
            accepted.add(params.event_name(chr(code) + "A1"))
    exported = client.get("/summary?format=csv").get_data(as_text=True)
    events = [row[1] for row in csv.reader(io.StringIO(exported))][1:]
    assert set(events) == accepted and len(accepted) > 40
    assert not [event for event in events if event[0] in FORMULA_STARTERS]
    _, flask_export, _ = run(any_app, "export")
    assert flask_export == exported
