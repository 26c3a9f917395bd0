"""Idempotent increments on DynamoDB: the ids table, one transaction a write, its cancellations, and its calls."""

import pytest

from counter_app import create_app

from counter_app.storage.dynamodb import ATTEMPTS
from counter_app.store import get_store
from tests.conftest import NOW, dynalite_app, stubbed
from tests.streams import stream_records

KEY = "6c1d0f7e-2b9a-4d3c-8e5f-0a1b2c3d4e5f"
TOKEN = "s3cret-read-token"
DAY_SECONDS = 24 * 3600


@pytest.fixture
def moto_app():
    """An app on DynamoDB mocked by moto, writing ids with their count in one transaction."""
    from moto import mock_aws

    with mock_aws():
        yield create_app({"TESTING": True, "STORE": "dynamodb://", "CLOCK": lambda: NOW,
                          "IDEMPOTENT_WRITES": "transaction", "VISITORS": False})  # tests/test_visitors.py: visitors


def calls_of(app) -> list[str]:
    """The operations the app's client sends from now on, in order (retries included)."""
    with app.app_context():
        store = get_store()
    sent: list[str] = []
    store.client.meta.events.register("before-send.dynamodb.*", lambda request, **_: sent.append(
        request.headers["X-Amz-Target"].decode().rpartition(".")[2]))
    return sent


@pytest.fixture
def moto(moto_server, monkeypatch):
    """An app on a fresh table in the single-threaded moto server, PAGEVIEW established on its day item."""
    # The id's own calls: tests/test_visitors.py has the visitor's.
    app = dynalite_app(moto_server, monkeypatch, IDEMPOTENT_WRITES="transaction", VISITORS=False)
    client = app.test_client()
    client.get("/?e=PAGEVIEW&c=20261126")
    client.get("/?e=PAGEVIEW")
    return app


def test_without_an_id_nothing_changes_one_update_item(moto):
    sent = calls_of(moto)
    assert moto.test_client().get("/?e=PAGEVIEW").json["count"] == 2
    assert sent == ["UpdateItem"]


def test_an_id_is_one_transaction_and_a_read_of_the_count(moto):
    sent = calls_of(moto)
    assert moto.test_client().get("/", query_string={"e": "PAGEVIEW", "id": KEY}).json["count"] == 2
    assert sent == ["TransactWriteItems", "GetItem"]
    sent.clear()
    again = moto.test_client().get("/", query_string={"e": "PAGEVIEW", "id": KEY}).json
    assert again["count"] == 2 and again["duplicate"] is True
    assert sent == ["TransactWriteItems", "BatchGetItem"]  # the day's two items: a name may sit in both


def test_a_reply_without_a_count_reads_nothing(moto):
    moto.config["READ_TOKEN"] = TOKEN
    sent = calls_of(moto)
    for duplicate in (False, True):
        reply = moto.test_client().get("/", query_string={"e": "PAGEVIEW", "id": KEY}).json
        assert "count" not in reply and reply.get("duplicate", False) is duplicate
    assert sent == ["TransactWriteItems", "TransactWriteItems"]


def test_the_id_record_holds_its_expiry_in_the_ids_table(moto):
    moto.test_client().get("/", query_string={"e": "PAGEVIEW", "id": KEY})
    with moto.app_context():
        store = get_store()
    assert store.ids_table == store.table.replace("_counters", "_counter_ids")
    items = store.client.scan(TableName=store.ids_table)["Items"]
    assert items == [{"Id": {"S": KEY}, "expires": {"N": str(int(NOW.timestamp()) + DAY_SECONDS)}}]
    assert not [item for item in store.client.scan(TableName=store.table)["Items"] if "Id" in item]  # no id there


def test_create_table_makes_the_ids_table_protected_with_ttl(moto):
    with moto.app_context():
        store = get_store()
    table = store.client.describe_table(TableName=store.ids_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "Id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "Id", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    backups = store.client.describe_continuous_backups(TableName=store.ids_table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = store.client.describe_time_to_live(TableName=store.ids_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    again = moto.test_cli_runner().invoke(args=["create-table"])
    assert again.exit_code == 0, again.output
    assert f"table {store.ids_table} already exists" in again.output
    assert f"ids in {store.ids_table} already expire through TTL on expires" in again.output


def test_create_table_on_dynalite_tolerates_its_missing_ttl(dynalite, monkeypatch):
    app = dynalite_app(dynalite, monkeypatch)
    result = app.test_cli_runner().invoke(args=["create-table"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = get_store().ids_table
    assert f"TTL not set for {ids}: this endpoint does not support it" in result.output
    assert f"point-in-time recovery not set for {ids}" in result.output


def test_create_table_fails_when_ttl_is_refused(moto_app):
    store, stub = stubbed(moto_app)
    for name in ("TEST_counters", "TEST_counter_ids"):
        stub.add_client_error("create_table", "ResourceInUseException")
        stub.add_response("describe_table", {"Table": {"TableStatus": "ACTIVE"}}, {"TableName": name})
        stub.add_response("update_continuous_backups", {})
    stub.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    stub.add_client_error("update_time_to_live", "AccessDeniedException", http_status_code=400)
    with stub:
        result = moto_app.test_cli_runner().invoke(args=["create-table"])
    assert result.exit_code != 0 and "AccessDenied" in result.output


def cancelled(stub, *codes, times=1):
    for _ in range(times):
        stub.add_client_error(
            "transact_write_items", "TransactionCanceledException", "Transaction cancelled",
            modeled_fields={"CancellationReasons": [{"Code": code, "Message": code} for code in codes]},
        )


def test_a_cancellation_by_the_id_is_a_duplicate(moto_app):
    store, stub = stubbed(moto_app)
    cancelled(stub, "ConditionalCheckFailed", "ConditionalCheckFailed")
    stub.add_response("batch_get_item", {"Responses": {"TEST_counters": [
        {"Day": {"N": "20261127"}, "A": {"N": "4"}}, {"Day": {"N": "-20261127"}, "A": {"N": "1"}}]}})
    with stub:
        reply = moto_app.test_client().get("/", query_string={"e": "A", "id": KEY})
        stub.assert_no_pending_responses()
    assert reply.json == {"status": "success", "eventkey": "A", "day": 20261127, "count": 5, "duplicate": True}


def test_conflicts_are_sent_again_then_a_transient_503(moto_app):
    store, stub = stubbed(moto_app)
    cancelled(stub, "TransactionConflict", "None", times=ATTEMPTS)
    with stub:
        reply = moto_app.test_client().get("/", query_string={"e": "A", "id": KEY})
        stub.assert_no_pending_responses()
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "1"


def test_a_conflict_then_success_counts(moto_app):
    store, stub = stubbed(moto_app)
    cancelled(stub, "None", "TransactionConflict")
    stub.add_response("transact_write_items", {})
    stub.add_response("get_item", {"Item": {"A": {"N": "7"}}})
    with stub:
        reply = moto_app.test_client().get("/", query_string={"e": "A", "id": KEY})
        stub.assert_no_pending_responses()
    assert reply.json == {"status": "success", "eventkey": "A", "day": 20261127, "count": 7}


def test_a_plain_update_that_meets_a_transaction_is_sent_again(moto_app):
    store, stub = stubbed(moto_app)
    stub.add_client_error("update_item", "TransactionConflictException", http_status_code=400)
    stub.add_response("update_item", {"Attributes": {"A": {"N": "3"}}})
    with stub:
        assert moto_app.test_client().get("/?e=A").json["count"] == 3
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("codes", [("None", "ValidationError"), ("None", "ItemCollectionSizeLimitExceeded")])
def test_other_cancellations_are_a_503_that_a_retry_will_not_mend(moto_app, codes):
    store, stub = stubbed(moto_app)
    cancelled(stub, *codes)
    with stub:
        reply = moto_app.test_client().get("/", query_string={"e": "A", "id": KEY})
        stub.assert_no_pending_responses()  # sent once
    assert reply.status_code == 503 and reply.json["status"] == "failure" and "Retry-After" not in reply.headers
    assert "Transaction" not in reply.json["error"]


def test_an_item_past_the_size_limit_in_a_transaction_is_409(moto_app):
    store, stub = stubbed(moto_app)
    stub.add_client_error(
        "transact_write_items", "TransactionCanceledException", "Transaction cancelled",
        modeled_fields={"CancellationReasons": [{"Code": "None"}, {
            "Code": "ValidationError", "Message": "Item size has exceeded the maximum allowed size"}]},
    )
    with stub:
        reply = moto_app.test_client().get("/", query_string={"e": "A", "id": KEY})
    assert reply.status_code == 409


def used_actions(app) -> set[tuple[str, str, str | None]]:
    """Record each DynamoDB action the app takes from now on: (IAM action, table, enclosing operation)."""
    with app.app_context():
        store = get_store()
    used: set[tuple[str, str, str | None]] = set()

    def record(model, params, **_):
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                (kind, action), = item.items()
                used.add((f"dynamodb:{kind}Item", action["TableName"], "TransactWriteItems"))
        elif model.name == "BatchGetItem":
            used.update((f"dynamodb:{model.name}", table, None) for table in params["RequestItems"])
        else:
            used.add((f"dynamodb:{model.name}", params["TableName"], None))

    store.client.meta.events.register("provide-client-params.dynamodb.*", record)
    return used


def test_the_function_policy_grants_exactly_what_counting_uses(moto_server, monkeypatch):
    """Every request kind the function serves, against deploy/policy-dev.json: nothing missing, nothing spare."""
    import json

    from deploy.stages import ROOT

    used: set[tuple[str, str, str | None]] = set()
    for writes in ("stream", "transaction"):
        app = dynalite_app(moto_server, monkeypatch, MAX_EVENTS_PER_DAY=1, IDEMPOTENT_WRITES=writes)
        with app.app_context():
            prefix = get_store().table.removesuffix("_counters")
        seen = used_actions(app)
        client = app.test_client()
        for path in ("/?e=PAGEVIEW", "/?e=PAGEVIEW", f"/?e=PAGEVIEW&id={KEY}", f"/?e=PAGEVIEW&id={KEY}",
                     "/?e=NEW", f"/?e=NEW&id={KEY}", f"/mark.gif?e=PAGEVIEW&id={KEY}x", "/summary",
                     "/badge.svg?e=PAGEVIEW", "/healthz", "/dashboard"):
            assert client.get(path).status_code in (200, 409), path
        with app.app_context():
            store = get_store()
            # The Lambda function's share of the aggregator: its checkpoint and its transaction (the stream
            # itself is read by the event source mapping, with the IdsStream grant).
            store.aggregate("shard-1", stream_records(store))
            store.set(20261127, "PAGEVIEW", 2**63 - 1)
        assert client.get("/?e=PAGEVIEW").status_code == 409  # one GetItem tells a counter at its limit
        used |= {(action, table.replace(prefix, "TEST"), within) for action, table, within in seen}

    granted = set()
    for statement in json.loads((ROOT / "deploy" / "policy-dev.json").read_text())["Statement"]:
        condition = statement.get("Condition", {}).get("ForAnyValue:StringEquals", {})
        enclosing = condition.get("dynamodb:EnclosingOperation", [None])
        if statement["Sid"] == "IdsStream":
            continue
        table = statement["Resource"].rpartition("/")[2]
        granted |= {(action, table, within) for action in statement["Action"] if action.startswith("dynamodb:")
                    for within in enclosing}
    # A grant without a condition also covers the same action inside a transaction.
    needed = {(action, table, None) if (action, table, None) in granted else (action, table, within)
              for action, table, within in used}
    assert needed == granted
