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
    counts = dict(store.dump())
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


def test_write_many_reads_a_window_at_a_time(moto_app, monkeypatch):
    import counter_app.storage.dynamodb_bulk as backend

    monkeypatch.setattr(backend, "WINDOW", 7)
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    drawn, seen = [], []
    store.client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: seen.append(len(drawn)))

    def rows():
        for n in range(30):
            drawn.append(n)
            yield 20261101 + n % 9, f"E{n}", n

    done = []
    store.write_many(rows(), done=done.extend)
    assert sorted(done) == list(range(30))
    # The rows are drawn a window at a time: 7 before the first call, never all 30 at once.
    assert seen[0] == 7 and seen == sorted(seen) and set(seen) == {7, 14, 21, 28, 30}
    assert sum(sum(counts.values()) for _, counts in store.dump()) == sum(range(30))


def test_dump_is_in_day_order_without_bookkeeping_items(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    days = [20261101 + n for n in range(0, 28, 3)] + [20251231, 20270101, 10101, 99991231]
    store.write_many([(day, "A", day % 97) for day in days])
    store.record_import("ab" * 32, "2026-11-27 12:00 UTC")
    store.client.put_item(TableName=store.table, Item={"Day": {"N": "1"}, "x": {"N": "5"}})  # the health check's
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    dumped = list(store.dump())
    assert [day for day, _ in dumped] == sorted(days)
    assert dict(dumped)[20261104] == {"A": 20261104 % 97}
    assert calls == ["Scan", "BatchGetItem"]  # the keys, then the days in order, 100 a call
    assert [day for day, _ in store.dump(20261104, 20270101)] == [d for d in sorted(days) if 20261104 <= d <= 20270101]
    assert store.get([0, 1]) == {} and 0 not in dict(store.dump(None, None))


def test_import_record_is_item_zero(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    assert store.imported("cd" * 32) is None
    store.record_import("cd" * 32, "2026-11-27 12:00 UTC")
    assert store.imported("cd" * 32) == "2026-11-27 12:00 UTC"
    assert store.imported("ef" * 32) is None
    item = store.client.get_item(TableName=store.table, Key={"Day": {"N": "0"}})["Item"]
    assert item == {"Day": {"N": "0"}, f"sha256:{'cd' * 32}": {"S": "2026-11-27 12:00 UTC"}}
    assert list(store.dump()) == []
