"""The aggregator, driven by real stream records of the ids table (moto's dynamodbstreams): exactly once under
redelivery, a crash after its write, a lost reply, bisection and a poison record; its CLI and its Lambda function."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from botocore.exceptions import ReadTimeoutError

from counter_app.aggregate import bisect, handler
from counter_app.logs import JsonFormatter
from counter_app.storage.base import PoisonRecord
from counter_app.storage.dynamodb_aggregate import checkpoint_key
from counter_app.store import get_store
from tests.conftest import TODAY, dynalite_app
from tests.streams import shard_records

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


@pytest.fixture
def stream(moto_server, monkeypatch):
    """An app writing ids on the stream path, in moto; ``hit(event, id)`` sends one hit, asserting its 200."""
    app = dynalite_app(moto_server, monkeypatch, VISITORS=False)  # hits alone: tests/test_visitors.py adds visitors
    client = app.test_client()

    def hit(event: str, key: str | None = None) -> dict:
        reply = client.get("/", query_string={"e": event, "id": key or uuid.uuid4().hex}, headers=BROWSER)
        assert reply.status_code == 200, reply.json
        return reply.json

    return app, hit


def counts(app) -> dict[str, int]:
    with app.app_context():
        return get_store().get([TODAY]).get(TODAY, {})


def test_a_hit_is_one_put_of_its_id_record_with_its_day_event_and_item(stream):
    app, hit = stream
    hit("PAGEVIEW")  # places PAGEVIEW (an ADD of 0) and records the id
    with app.app_context():
        store = get_store()
    sent: list[str] = []
    store.client.meta.events.register("before-send.dynamodb.*", lambda request, **_: sent.append(
        request.headers["X-Amz-Target"].decode().rpartition(".")[2]))
    key = uuid.uuid4().hex
    assert hit("PAGEVIEW", key) == {"status": "success", "eventkey": "PAGEVIEW", "day": TODAY}  # no count yet
    assert hit("PAGEVIEW", key)["duplicate"] is True
    assert sent == ["PutItem", "PutItem"]  # one conditional PutItem each: no transaction, no hot item
    item = store.client.get_item(TableName=store.ids_table, Key={"Id": {"S": key}})["Item"]
    assert {name: item[name] for name in ("day", "event", "target")} == {
        "day": {"N": str(TODAY)}, "event": {"S": "PAGEVIEW"}, "target": {"N": str(-TODAY)}}  # no history: newcomers
    assert counts(app) == {"PAGEVIEW": 0}  # placed, and counted only once aggregated


def test_the_stream_is_added_up_once_ignoring_removals_and_transaction_ids(stream):
    app, hit = stream
    for event in ("PAGEVIEW", "PAGEVIEW", "SIGNUP"):
        hit(event)
    repeated = uuid.uuid4().hex
    hit("PAGEVIEW", repeated)
    hit("PAGEVIEW", repeated)  # a duplicate: no record
    with app.app_context():
        store = get_store()
        # TTL's deletion of an id, and an id the transaction path wrote (no event): both in the stream, neither counts.
        store.client.delete_item(TableName=store.ids_table, Key={"Id": {"S": repeated}})
        store.client.put_item(TableName=store.ids_table, Item={"Id": {"S": "from-the-transaction-path"},
                                                                "expires": {"N": "1"}})
        shard, records = shard_records(store)
        assert [record["eventName"] for record in records] == ["INSERT"] * 4 + ["REMOVE", "INSERT"]
        assert store.aggregate(shard, records) == 4
        assert store.aggregate(shard, records) == 0  # the same batch delivered twice
        assert store.aggregate(shard, records[:3]) == 0  # a part of it, as bisection would send it
    assert counts(app) == {"PAGEVIEW": 3, "SIGNUP": 1}


def after_transactions(store, fault) -> None:
    """Call ``fault`` once each ``TransactWriteItems`` of ``store`` was answered (applied), before the caller hears."""
    store.client.meta.events.register("after-call.dynamodb.TransactWriteItems",
                                      lambda http_response, parsed, model, **_: fault())


def test_killed_after_its_write_the_batch_delivered_again_adds_nothing(stream):
    app, hit = stream
    for _ in range(5):
        hit("PAGEVIEW")
    with app.app_context():
        store = get_store()
        shard, records = shard_records(store)
        killed = [True]

        def crash():
            if killed.pop() if killed else False:
                raise SystemExit("killed after the write")  # the function dies before it returns: Lambda retries

        after_transactions(store, crash)
        with pytest.raises(SystemExit):
            store.aggregate(shard, records)
        assert counts(app) == {"PAGEVIEW": 5}  # the write was in
        for half in (records[:2], records[2:], records):  # bisected, then whole again
            assert store.aggregate(shard, half) == 0
    assert counts(app) == {"PAGEVIEW": 5}


def test_a_reply_lost_on_the_batch_transaction_is_read_back_not_applied_twice(stream):
    app, hit = stream
    for _ in range(3):
        hit("SIGNUP")
    with app.app_context():
        store = get_store()
        shard, records = shard_records(store)
        lost = []

        def lose():
            if not lost:
                lost.append("TransactWriteItems")
                raise ReadTimeoutError(endpoint_url="moto")  # applied, and the reply never came

        after_transactions(store, lose)
        # Applied by the attempt whose reply was lost; the checkpoint, read again, says so, and nothing is resent.
        assert store.aggregate(shard, records) == 0
        assert lost == ["TransactWriteItems"]
    assert counts(app) == {"SIGNUP": 3}


def test_the_checkpoint_is_one_item_per_shard_outside_every_day(stream):
    app, hit = stream
    hit("A")
    with app.app_context():
        store = get_store()
        shard, records = shard_records(store)
        store.aggregate(shard, records)
        item = store.client.get_item(TableName=store.table, Key={"Day": {"N": str(checkpoint_key(shard))}})["Item"]
        assert item["shard"] == {"S": shard} and item["sequence"] == {"S": records[-1]["dynamodb"]["SequenceNumber"]}
        assert dict(store.dump()) == {TODAY: {"A": 1}}  # neither exported nor summed


def poison(records: list[dict], at: int) -> list[dict]:
    """``records`` with the one at ``at`` carrying an event no admission lets through."""
    bad = copy.deepcopy(records)
    bad[at]["dynamodb"]["NewImage"]["event"] = {"S": "not a name"}
    return bad


def test_a_poison_record_is_bisected_out_reported_and_never_blocks_the_shard(stream, caplog):
    app, hit = stream
    for _ in range(6):
        hit("PAGEVIEW")
    with app.app_context():
        store = get_store()
        shard, records = shard_records(store)
        batch = poison(records, 3)
        with pytest.raises(PoisonRecord):
            store.aggregate(shard, batch)  # nothing is written before a record is found bad
        assert counts(app) == {"PAGEVIEW": 0}
        assert bisect(shard, batch, app.logger) == 5
    assert counts(app) == {"PAGEVIEW": 5}
    alarms = [json.loads(JsonFormatter().format(record)) for record in caplog.records
              if getattr(record, "fields", {}).get("alarm")]
    bad = batch[3]["dynamodb"]["SequenceNumber"]
    # The whole batch, then the halves that hold the record, down to the record alone, which is skipped.
    assert [alarm["records"] for alarm in alarms] == [6, 3, 1]
    assert alarms[-1]["alarm"] == "aggregator" and alarms[-1]["first"] == alarms[-1]["last"] == bad
    assert alarms[-1]["level"] == "ERROR" and alarms[-1]["shard"] == shard and "holds no valid" in alarms[-1]["reason"]


def test_flask_aggregate_polls_the_stream_from_its_checkpoint(stream):
    app, hit = stream
    runner = app.test_cli_runner()
    for _ in range(3):
        hit("PAGEVIEW")
    assert runner.invoke(args=["aggregate"]).output == "Aggregated 3 hits.\n"
    hit("SIGNUP")
    assert runner.invoke(args=["aggregate"]).output == "Aggregated 1 hits.\n"
    assert runner.invoke(args=["aggregate"]).output == "Aggregated 0 hits.\n"
    assert counts(app) == {"PAGEVIEW": 3, "SIGNUP": 1}


def test_flask_aggregate_on_sqlite_says_there_is_nothing_to_aggregate(app):
    result = app.test_cli_runner().invoke(args=["aggregate"])
    assert result.exit_code == 1 and "SQLite counts each hit at once" in result.output


def lambda_event(records: list[dict], shard: str, arn: str) -> dict:
    """The event Lambda's mapping sends with a tumbling window: the batch, its shard and a state."""
    return {"Records": [{**json.loads(json.dumps(record, default=str)), "eventSourceARN": arn} for record in records],
            "shardId": shard, "eventSourceARN": arn, "window": {}, "state": {}, "isFinalInvokeForWindow": False}


def test_the_lambda_function_applies_its_shard_batch_once(stream, monkeypatch):
    app, hit = stream
    monkeypatch.setenv("COUNTER_STORE", "dynamodb://")
    monkeypatch.setenv("COUNTER_TABLE_PREFIX", app.config["TABLE_PREFIX"])
    monkeypatch.setattr("counter_app.aggregate._app", lambda: app)
    for _ in range(4):
        hit("PAGEVIEW")
    with app.app_context():
        store = get_store()
        shard, records = shard_records(store)
        event = lambda_event(records, shard, store.stream_arn())
    assert handler(event) == {"state": {}, "batchItemFailures": []}
    assert handler(event) == {"state": {}, "batchItemFailures": []}  # delivered again
    assert counts(app) == {"PAGEVIEW": 4}
    with pytest.raises(PoisonRecord):
        handler(lambda_event(poison(records, 0), shard, "arn"))  # Lambda bisects, retries, then the failure queue
    with pytest.raises(ValueError, match="TumblingWindowInSeconds"):
        handler({"Records": event["Records"]})


def test_a_name_an_import_moved_is_found_where_it_is_now(stream):
    app, hit = stream
    for _ in range(2):
        hit("MOVED")  # no history: counted in the newcomers item
    with app.app_context():
        store = get_store()
        store.set(TODAY, "MOVED", 10)  # an import with --replace: the name now lives in the day item alone
        shard, records = shard_records(store)
        assert store.aggregate(shard, records) == 2
    assert counts(app) == {"MOVED": 12}
