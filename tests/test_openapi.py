"""The OpenAPI document, and schemathesis fuzzing the app against it."""

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from counter_app import create_app
from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.conftest import NOW

PLAIN = {"Accept-Encoding": "identity"}
FUZZ_EXAMPLES = 40  # per operation and mode: keeps the whole run to seconds
PRIVATE_EXAMPLES = 10  # every reply is the same refusal: a few per operation show its shape
TOKEN = "s3cret-read-token"


def fuzzed(config: dict, examples: int = 1) -> schemathesis.BaseSchema:
    """The app's own document, read from the app it describes, for schemathesis to call in-process."""
    # An in-memory SQLite store: schemathesis calls the app from this one thread, so
    # one connection sees every write, and nothing is left on disk.
    return schemathesis.openapi.from_wsgi(
        "/openapi.json",
        create_app({"STORE": "sqlite:///:memory:", "CLOCK": lambda: NOW, **config}),
        config=schemathesis.Config.from_dict(
            {
                "generation": {"mode": "all", "max-examples": examples, "deterministic": True},
                # A schema-valid c can still be refused with a documented 400: a real calendar
                # date inside a window that moves with today is more than a pattern can say.
                "checks": {"positive_data_acceptance": {"enabled": False}},
            }
        ),
    )


schema = fuzzed({}, FUZZ_EXAMPLES)
# With a read token and no credentials, the read routes' 401 replies (JSON, or the dashboard's
# HTML token form) are checked against the document too.
private = fuzzed({"READ_TOKEN": TOKEN}, PRIVATE_EXAMPLES).include(path_regex="^/(summary|metrics|badge.svg|dashboard)$")


def call(case):
    """Call the app and check the reply against the document."""
    # buffered: werkzeug reads and closes each reply; schemathesis never closes send_file's open script.
    # identity: schemathesis asks for gzip as requests does, but its WSGI transport does not unpack it;
    # test_compress.py and the Lambda package's tests check the gzipped replies.
    return case.call_and_validate(buffered=True, headers=PLAIN)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_conforms_to_its_document(case):
    call(case)


@private.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_private_reads_refuse_conforming_to_the_document(case):
    response = call(case)
    # schemathesis also sends undocumented methods (405, or 200 to OPTIONS), which never reach the auth check.
    assert response.status_code == 401 or case.method.upper() != case.operation.method.upper()


def broken(*args, **kwargs):
    raise StoreUnavailable("down for the test")


DOWN = {"STORE_DOWN": True}  # not a setting: the test makes the store's reads and writes fail


# Replies random input seldom or never reaches: each is checked against the document like a fuzzed one.
@pytest.mark.parametrize(
    "config,method,path,request_args,status",
    [
        ({}, "GET", "/counter.js", {"headers": {"If-None-Match": "*"}}, 304),
        ({}, "GET", "/counter.js", {"headers": {"Range": "bytes=0-9"}}, 206),
        ({}, "GET", "/counter.js", {"headers": {"Range": "bytes=99999-"}}, 416),
        ({}, "GET", "/counter.js", {"headers": {"If-Match": '"another"'}}, 412),
        ({}, "GET", "/pixel.gif", {"query": {"e": "A"}, "headers": {"User-Agent": "Googlebot/2.1"}}, 200),
        ({"EVENTS": "A"}, "GET", "/pixel.gif", {"query": {"e": "B"}}, 422),
        ({"MAX_EVENTS_PER_DAY": 1}, "GET", "/pixel.gif", {"query": {"e": "B"}}, 409),
        ({"READ_TOKEN": TOKEN}, "POST", "/dashboard", {"query": {"from": "20261101"}, "body": {"token": TOKEN},
                                                          "media_type": "application/x-www-form-urlencoded"}, 303),
        (DOWN, "GET", "/pixel.gif", {"query": {"e": "A"}}, 503),
        (DOWN, "GET", "/badge.svg", {"query": {"e": "A"}}, 503),
        (DOWN, "GET", "/dashboard", {}, 503),
    ],
    ids=lambda value: str(value) if isinstance(value, (str, int)) else None,
)
def test_rare_replies_conform(monkeypatch, config, method, path, request_args, status):
    document = fuzzed({} if config is DOWN else config)
    with document.app.app_context():
        get_store().incr(20261127, "A")
        if config is DOWN:
            for name in ("get", "incr"):
                monkeypatch.setattr(get_store(), name, broken)
    # A 503 is the documented reply of a store that is down, not the server error that check hunts.
    excluded = [not_a_server_error] if status == 503 else []
    reply = document[path][method].Case(**request_args).call_and_validate(buffered=True, excluded_checks=excluded,
                                                                          headers=PLAIN)
    assert reply.status_code == status
    if "READ_TOKEN" in config:
        assert "counter_read=" in reply.headers["set-cookie"][0]


def test_document_covers_every_route(app):
    document = app.test_client().get("/openapi.json")
    assert document.status_code == 200 and document.mimetype == "application/json"
    paths = json.loads(document.data)["paths"]
    routes: dict[str, set[str]] = {}  # one path may have a rule per method, as /dashboard does
    for rule in app.url_map.iter_rules():  # /static/<path:filename> is the document's /static/{filename}
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes == {path: set(operations) for path, operations in paths.items()}
