"""The OpenAPI document, and schemathesis fuzzing the app against it."""

import json

import schemathesis
from hypothesis import HealthCheck, settings

from counter_app import create_app
from tests.conftest import NOW

FUZZ_EXAMPLES = 40  # per operation and mode: keeps the whole run to seconds


# An in-memory SQLite store: schemathesis calls the app from this one thread, so
# one connection sees every write, and nothing is left on disk.
schema = schemathesis.openapi.from_wsgi(
    "/openapi.json",
    create_app({"STORE": "sqlite:///:memory:", "CLOCK": lambda: NOW}),
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES, "deterministic": True},
            # A schema-valid c can still be refused with a documented 400: a real calendar
            # date inside a window that moves with today is more than a pattern can say.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    ),
)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_conforms_to_its_document(case):
    case.call_and_validate()


def test_document_covers_every_route(app):
    document = app.test_client().get("/openapi.json")
    assert document.status_code == 200 and document.mimetype == "application/json"
    paths = json.loads(document.data)["paths"]
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routes == set(paths)
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}} == set(paths[rule.rule])
