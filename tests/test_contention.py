"""The contention stand-in refuses as DynamoDB does while a transaction holds an item, and only then."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from counter_app.storage.dynamodb_calls import unapplied
from tests.conftest import TODAY, dynalite_app
from tests.contention import ONGOING, Contention, ContentionStore
from tests.moto_server import MotoServer

HOLD = 0.4  # long, so that a second call surely lands inside the first one's hold
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def stand_in():
    with ContentionStore(hold=HOLD) as found:
        yield found


@pytest.fixture
def tables(stand_in):
    """A client of the stand-in, and a fresh counters table (``Day``) and ids table (``Id``) in it."""
    client = boto3.client("dynamodb", endpoint_url=stand_in.endpoint, config=NO_RETRIES)
    names = f"C{uuid.uuid4().hex[:8]}", f"I{uuid.uuid4().hex[:8]}"
    for name, key, kind in ((names[0], "Day", "N"), (names[1], "Id", "S")):
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}])
    return client, *names


def hit(client, counters: str, ids: str, day: int = 20261204) -> dict:
    """An idempotent hit as the counter sends it: the id's Put and the day's ADD in one transaction."""
    return client.transact_write_items(TransactItems=[
        {"Put": {"TableName": ids, "Item": {"Id": {"S": uuid.uuid4().hex}},
                 "ConditionExpression": "attribute_not_exists(Id)"}},
        {"Update": {"TableName": counters, "Key": {"Day": {"N": str(day)}}, "UpdateExpression": "ADD E :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}}])


def count(client, counters: str, day: int = 20261204) -> int:
    item = client.get_item(TableName=counters, Key={"Day": {"N": str(day)}}, ConsistentRead=True).get("Item", {})
    return int(item.get("E", {}).get("N", 0))


def during_a_hold(stand_in, first, second):
    """Start ``first`` (a transaction), call ``second`` while ``first`` holds its items; both outcomes."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(first)
        while not stand_in.holding:
            time.sleep(0.001)
        try:
            outcome = second()
        except ClientError as exc:
            assert stand_in.holding  # refused inside the hold
            outcome = exc
        return pending.result(), outcome


def test_a_second_transaction_on_a_held_item_is_cancelled_with_transaction_conflict(stand_in, tables):
    client, counters, ids = tables
    first, second = during_a_hold(stand_in, lambda: hit(client, counters, ids), lambda: hit(client, counters, ids))
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert isinstance(second, ClientError)
    response = second.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Message"] == ("Transaction cancelled, please refer cancellation reasons for specific "
                                            "reasons [None, TransactionConflict]")
    # One reason per item, in request order: the id's record was not held, the day item was.
    assert response["CancellationReasons"] == [{"Code": "None"}, {"Code": "TransactionConflict", "Message": ONGOING}]
    assert unapplied(second)  # the counter knows it may send it again
    assert count(client, counters) == 1  # the cancelled one added nothing


def test_a_plain_write_on_a_held_item_gets_transaction_conflict_exception(stand_in, tables):
    client, counters, ids = tables
    refused = stand_in.count("UpdateItem", "conflict")

    def plain():
        return client.update_item(TableName=counters, Key={"Day": {"N": "20261204"}}, UpdateExpression="ADD E :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}})

    _, outcome = during_a_hold(stand_in, lambda: hit(client, counters, ids), plain)
    assert isinstance(outcome, ClientError)
    assert outcome.response["Error"] == {"Code": "TransactionConflictException", "Message": ONGOING}
    assert outcome.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert unapplied(outcome)
    assert stand_in.count("UpdateItem", "conflict") == refused + 1
    assert count(client, counters) == 1
    plain()  # the hold is over: the same write goes through
    assert count(client, counters) == 2


def test_without_a_hold_on_the_same_item_both_pass(stand_in, tables):
    client, counters, ids = tables
    hit(client, counters, ids)
    hit(client, counters, ids)  # the first one's hold ended with its reply
    # Held items are items, not tables: transactions on two days overlap (four items held at once), both pass.
    with ThreadPoolExecutor(2) as pool:
        both = [pool.submit(hit, client, counters, ids, day) for day in (20261205, 20261206)]
        overlapped = False
        while not all(future.done() for future in both):
            overlapped |= stand_in.holding == 4
        assert [future.result()["ResponseMetadata"]["HTTPStatusCode"] for future in both] == [200, 200]
    assert overlapped
    assert [count(client, counters, day) for day in (20261204, 20261205, 20261206)] == [2, 1, 1]
    assert client.scan(TableName=ids, Select="COUNT")["Count"] == 4


def test_a_transaction_holds_its_items_for_the_set_time_at_least(stand_in, tables):
    client, counters, ids = tables
    started = time.monotonic()
    hit(client, counters, ids)
    assert time.monotonic() - started >= HOLD  # the model's hold, not a performance figure


def test_the_stand_in_answers_on_sockets_without_nagles_algorithm(stand_in, tables, monkeypatch):
    # Its answer leaves in two writes: with Nagle's algorithm on, the second waits for the client's delayed ACK
    # (40 ms on Linux), a latency DynamoDB does not have, and 4 sync workers answered 80 hits a second, not 150.
    client, counters, _ = tables
    handler = stand_in._server.RequestHandlerClass
    answer, options = handler.handle_one_request, []

    def noting(self) -> None:
        options.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        answer(self)

    monkeypatch.setattr(handler, "handle_one_request", noting)
    count(client, counters)
    assert options and all(options)


def test_moto_own_cancellations_come_through_unchanged(stand_in, tables):
    client, counters, ids = tables
    key = uuid.uuid4().hex
    client.put_item(TableName=ids, Item={"Id": {"S": key}})
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": ids, "Item": {"Id": {"S": key}}, "ConditionExpression": "attribute_not_exists(Id)"}},
            {"Update": {"TableName": counters, "Key": {"Day": {"N": "20261204"}}, "UpdateExpression": "ADD E :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert [reason["Code"] for reason in caught.value.response["CancellationReasons"]] == [
        "ConditionalCheckFailed", "None"]
    assert not unapplied(caught.value)
    assert count(client, counters) == 0
    assert stand_in.count("TransactWriteItems", "TransactionCanceledException") >= 1


def test_concurrent_hits_through_the_stand_in_count_exactly(stand_in, tables):
    client, counters, ids = tables
    results: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            hit(client, counters, ids)
            outcome = "ok"
        except ClientError as exc:
            outcome = exc.response["CancellationReasons"][1]["Code"]
        with lock:
            results.append(outcome)

    with ThreadPoolExecutor(4) as pool:
        for _ in range(8):
            pool.submit(one)
    assert len(results) == 8 and set(results) <= {"ok", "TransactionConflict"}
    assert "TransactionConflict" in results  # four callers on one item for 0.4 s each
    assert count(client, counters) == results.count("ok")
    assert stand_in.count("TransactWriteItems", "conflict") >= results.count("TransactionConflict")


def test_write_units_are_those_of_applied_writes(stand_in, tables):
    client, counters, ids = tables
    before = stand_in.units.copy()
    _, refused = during_a_hold(stand_in, lambda: hit(client, counters, ids), lambda: hit(client, counters, ids))
    assert isinstance(refused, ClientError)
    client.update_item(TableName=counters, Key={"Day": {"N": "20261204"}}, UpdateExpression="ADD E :one",
                       ExpressionAttributeValues={":one": {"N": "1"}})
    # One transaction of two items applied (2 × 2), one cancelled (nothing), one plain ADD (1).
    assert stand_in.units - before == {"TransactWriteItems": 4, "UpdateItem": 1}


@pytest.fixture(params=["transaction", "stream"])
def counter(request, stand_in, monkeypatch):
    """The counter (each idempotent write path) on tables of its own behind a stand-in whose transactions hold
    1.5 s (the same moto)."""
    with Contention(f"http://{stand_in.upstream}", hold=1.5) as slow:
        app = dynalite_app(slow, monkeypatch, IDEMPOTENT_WRITES=request.param)
        client = boto3.client("dynamodb", endpoint_url=slow.endpoint, config=NO_RETRIES)
        yield slow, app, client, app.extensions["counter.store"]


def establish(app):
    """A test client of ``app``, with E counted yesterday and today: a name of the day item, as busy ones are."""
    web = app.test_client()
    web.get("/?e=E&c=20261126")
    web.get("/?e=E")
    return web


def hold_the_day(client, store):
    """A transaction on the counter's day item, as another hit's would be."""
    return hit(client, store.table, store.ids_table, day=TODAY)


def test_an_idempotent_hit_during_a_hold_of_its_day(counter):
    slow, app, client, store = counter
    web = establish(app)
    hit_once = "/?e=E&id=6c1d0f7e2b9a4d3c8e5f0a1b2c3d4e5f"
    _, during = during_a_hold(slow, lambda: hold_the_day(client, store), lambda: web.get(hit_once))
    if app.config["IDEMPOTENT_WRITES"] == "stream":
        # The hit is a PutItem of its own id record, an item no transaction holds: it goes through at once.
        assert during.status_code == 200 and during.json["status"] == "success"
        assert sum(n for (operation, outcome), n in slow.calls.items() if outcome == "conflict") == 0
        assert "Item" in client.get_item(TableName=store.ids_table, Key={"Id": {"S": hit_once[-32:]}})
        return
    # The counter sent its transaction again while DynamoDB said it may (TransactionConflict), then gave up.
    assert during.status_code == 503 and during.headers["Retry-After"] == "1"
    assert slow.count("TransactWriteItems", "conflict") >= 2
    assert count(client, store.table, TODAY) == 2  # the first GET and the holding transaction's ADD
    after = web.get(hit_once)  # the browser's retry, with the same id, once the hold is over
    assert after.status_code == 200 and "duplicate" not in after.json
    assert count(client, store.table, TODAY) == 3


def test_a_plain_hit_meets_the_hold_as_transaction_conflict_exception(counter):
    slow, app, client, store = counter
    web = establish(app)
    _, during = during_a_hold(slow, lambda: hold_the_day(client, store), lambda: web.get("/?e=E"))
    assert during.status_code == 503
    assert slow.count("UpdateItem", "conflict") >= 2  # sent again: the refusal applied nothing
    assert count(client, store.table, TODAY) == 2
    assert web.get("/?e=E").json["count"] == 3


def test_light_moto_restores_a_cancelled_transaction_and_its_stream():
    with MotoServer(light=True) as server:
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, config=NO_RETRIES)
        client.create_table(TableName="S", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        client.put_item(TableName="S", Item={"Id": {"S": "a"}, "n": {"N": "1"}})
        client.put_item(TableName="S", Item={"Id": {"S": "b"}})
        with pytest.raises(ClientError):
            client.transact_write_items(TransactItems=[
                {"Update": {"TableName": "S", "Key": {"Id": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": "S", "Item": {"Id": {"S": "c"}}}},
                {"Put": {"TableName": "S", "Item": {"Id": {"S": "b"}},
                         "ConditionExpression": "attribute_not_exists(Id)"}}])
        items = {item["Id"]["S"]: item for item in client.scan(TableName="S")["Items"]}
        assert items == {"a": {"Id": {"S": "a"}, "n": {"N": "1"}}, "b": {"Id": {"S": "b"}}}
        streams = boto3.client("dynamodbstreams", endpoint_url=server.endpoint, config=NO_RETRIES)
        arn = client.describe_table(TableName="S")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [record["dynamodb"]["Keys"]["Id"]["S"] for record in records] == ["a", "b"]  # the two puts only
        client.transact_write_items(TransactItems=[  # and one that applies is kept
            {"Update": {"TableName": "S", "Key": {"Id": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
        assert client.get_item(TableName="S", Key={"Id": {"S": "a"}})["Item"]["n"] == {"N": "2"}
