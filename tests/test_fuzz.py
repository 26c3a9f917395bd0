"""Property-based tests: parsing of names, days and bodies, and rejected requests changing nothing."""

import json
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import BadRequest

from counter_app import create_app, params
from tests.conftest import NOW, TODAY

ASCII_DIGITS = set("0123456789")
HOSTILE = [
    "#e", ":one", ":n", "X SET Y = :v", "A REMOVE B", "a\x00b", "\x00", "\x1b[31m", "A\nB", "A\rB", "A;B", "'", '"',
    "２０２６１１２７", "٢٠٢٦١١٢٧", "2026-11-27", "+20261127", " 20261127", "20261127\x00", "1e9", "events", "Day",
    "PAGEVIEW", "pageview", "A", "B", "C", "NEWNAME", str(TODAY), "20261126", "X" * 64, "X" * 65, "Y" * 20000,
]
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80), st.text(st.characters(codec="ascii"), max_size=70))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["e", "c", "x"]), inner, max_size=3),
    max_leaves=6,
)


@given(texts)
def test_event_names_are_accepted_only_in_their_normal_form(text):
    try:
        name = params.event_name(text)
    except BadRequest:
        stripped = text.strip(" \t\r\n")
        assert not (stripped.isascii() and params.EVENT.fullmatch(stripped.upper()))
        return
    assert params.EVENT.fullmatch(name) and name == text.strip(" \t\r\n").upper() and name.isascii()


@given(st.from_regex(r"[a-zA-Z0-9_.:/][a-zA-Z0-9_.:/-]{0,63}", fullmatch=True))
def test_every_well_formed_name_is_accepted(text):
    assert params.event_name(f" {text}\t") == text.upper()


@given(st.one_of(texts, st.text(st.sampled_from("0123456789０１２３４５６７８９٠١٢"), min_size=7, max_size=9),
                 st.text(st.sampled_from("0123456789-٠１"), min_size=9, max_size=11), st.dates().map(date.isoformat)))
def test_days_are_eight_ascii_digits_of_a_real_date_dashed_or_not(text):
    digits = text.replace("-", "") if len(text) == 10 and text[4] == text[7] == "-" else text
    try:
        parsed = params.day(text)
    except BadRequest:
        if len(digits) == 8 and set(digits) <= ASCII_DIGITS:
            with pytest.raises(ValueError):
                date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        return
    assert len(digits) == 8 and set(digits) <= ASCII_DIGITS
    assert parsed == date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


@given(json_values)
def test_a_json_body_must_be_an_object(value):
    body = json.dumps(value)
    if isinstance(value, dict):
        assert params._json_object(body) == json.loads(body)
    else:
        with pytest.raises(BadRequest):
            params._json_object(body)


@pytest.fixture(scope="module")
def full_day(tmp_path_factory):
    """An app whose today already holds its cap of names A, B and C: any new name is refused."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    app = create_app({"STORE": f"sqlite:///{path}", "CLOCK": lambda: NOW, "MAX_EVENTS_PER_DAY": 3})
    client = app.test_client()
    for name in ("A", "B", "C"):
        assert client.get("/", query_string={"e": name}).status_code == 200
    return client, path


def snapshot(path: Path) -> tuple[bytes, bytes]:
    """The database file and its write-ahead log, byte for byte."""
    wal = Path(f"{path}-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def most_names_in_a_day(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM TEST_counters GROUP BY day)").fetchone()[0]


BODY_TYPES = ["application/xml", "image/png", "text/plain", "application/json"]
bodies = st.one_of(
    st.just({}),
    json_values.map(lambda v: {"data": json.dumps(v), "content_type": "application/json"}),
    st.dictionaries(st.sampled_from(["e", "c", "x"]), texts, max_size=3).map(lambda form: {"data": form}),
    texts.map(lambda text: {"data": text, "content_type": "text/plain"}),
    st.tuples(st.binary(max_size=64), st.sampled_from(BODY_TYPES))
    .map(lambda pair: {"data": pair[0], "content_type": pair[1]}),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    query=st.lists(st.tuples(st.sampled_from(["e", "c", "x"]), texts), max_size=4),
    body=bodies,
    agent=st.sampled_from(["", "Mozilla/5.0 (compatible; Googlebot/2.1)", "Mozilla/5.0 Firefox/128.0"]),
)
def test_a_rejected_request_leaves_the_store_byte_for_byte_unchanged(full_day, method, query, body, agent):
    client, path = full_day
    before = snapshot(path)
    reply = client.open("/", method=method, query_string=query, headers={"User-Agent": agent}, **body)
    assert reply.status_code < 500
    counted = reply.status_code == 200 and method in ("GET", "POST") and "count" in reply.json
    if counted:
        assert snapshot(path) != before
        assert most_names_in_a_day(path) <= 3
    else:
        assert snapshot(path) == before
        if method != "HEAD" and reply.status_code != 200:
            assert reply.json["status"] == "failure" and set(reply.json) == {"status", "error"}
