"""DynamoDB's bulk writes: events of a day share an UpdateItem, days go in parallel, throttling is retried."""

import pytest

from counter_app.storage import StoreUnavailable
from counter_app.storage.dynamodb import ATTEMPTS, EVENTS_PER_UPDATE
from counter_app.store import get_store
from tests.conftest import stubbed


def test_events_of_a_day_share_update_calls(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    rows = [(20261101 + day, f"E{n}", n) for day in range(3) for n in range(EVENTS_PER_UPDATE + 10)]
    done = []
    store.write_many(rows, done=done.extend)
    assert calls == ["UpdateItem"] * 6
    assert sorted(done) == list(range(len(rows)))
    calls.clear()
    store.write_many(rows[:2], replace=True)
    assert calls == ["UpdateItem"] * 2  # the day item's SET, and the REMOVE of those names from its newcomers
    counts = store.dump()
    assert counts[20261101] == {f"E{n}": n for n in range(EVENTS_PER_UPDATE + 10)} | {"E1": 1, "E0": 0}
    assert len(counts) == 3


def test_throttled_update_is_retried(moto_app):
    store, stub = stubbed(moto_app)
    stub.add_client_error("update_item", service_error_code="ProvisionedThroughputExceededException")
    stub.add_client_error("update_item", service_error_code="ThrottlingException")
    stub.add_response("update_item", {})
    with stub:
        store.write_many([(20261101, "A", 2)])
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["ValidationException", "ResourceNotFoundException"])
def test_other_errors_stop_the_import_at_once(moto_app, code):
    store, stub = stubbed(moto_app)
    stub.add_client_error("update_item", service_error_code=code)
    done = []
    with stub, pytest.raises(StoreUnavailable, match=code):
        store.write_many([(20261101, "A", 2)], done=done.extend)
    assert done == []


def test_endless_throttling_gives_up(moto_app):
    store, stub = stubbed(moto_app)
    for _ in range(ATTEMPTS):
        stub.add_client_error("update_item", service_error_code="ThrottlingException")
    with stub, pytest.raises(StoreUnavailable, match="ThrottlingException"):
        store.write_many([(20261101, "A", 2)])
    stub.assert_no_pending_responses()
