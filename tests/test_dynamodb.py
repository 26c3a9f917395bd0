"""The DynamoDB store under moto, botocore's Stubber, and an unreachable endpoint."""

import time

import pytest

from counter_app import create_app
from counter_app.storage.dynamodb import ATTEMPTS, THROTTLED
from counter_app.store import get_store
from tests.conftest import stubbed


@pytest.fixture
def moto_app(moto_app):
    """The app on moto, visitors off: these tests count the calls of the count alone (tests/test_visitors.py)."""
    moto_app.config["VISITORS"] = False
    return moto_app


def test_create_table_then_again(moto_app):
    runner = moto_app.test_cli_runner()
    first = runner.invoke(args=["create-table"])
    assert first.exit_code == 0, first.output
    assert "created table TEST_counters" in first.output
    assert "point-in-time recovery is on" in first.output
    with moto_app.app_context():
        client = get_store().client
    table = client.describe_table(TableName="TEST_counters")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "Day", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "Day", "AttributeType": "N"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    backups = client.describe_continuous_backups(TableName="TEST_counters")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    again = runner.invoke(args=["create-table"])
    assert again.exit_code == 0
    assert "already exists" in again.output


def test_a_day_item_for_established_names_and_a_newcomers_item_beside_it(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    client = moto_app.test_client()
    client.get("/?e=PAGEVIEW&c=20261126")
    client.get("/?e=PAGEVIEW")
    client.get("/?e=STATUS")
    client.get("/?e=PAGEVIEW")
    with moto_app.app_context():
        client_ = get_store().client
    items = {day: client_.get_item(TableName="TEST_counters", Key={"Day": {"N": str(day)}}).get("Item")
             for day in (20261126, -20261126, 20261127, -20261127, 20261128, -20261128)}
    # Lower-case attributes are bookkeeping, never events: "bytes" granted in each item,
    # "events" for the slots unknown names took in the newcomers item, "c:NAME" for the room
    # a name counted the day before claimed (PAGEVIEW's, unused: established, it went to the day item).
    assert items == {
        20261126: None,
        -20261126: {"Day": {"N": "-20261126"}, "PAGEVIEW": {"N": "1"}, "events": {"N": "1"},
                    "bytes": {"N": str(len("PAGEVIEW") + 11)}},
        20261127: {"Day": {"N": "20261127"}, "PAGEVIEW": {"N": "2"}, "bytes": {"N": str(len("PAGEVIEW") + 11)}},
        -20261127: {"Day": {"N": "-20261127"}, "STATUS": {"N": "1"}, "events": {"N": "1"}, "c:PAGEVIEW": {"N": "1"},
                    "bytes": {"N": str(len("PAGEVIEW") + 11 + len("STATUS") + 11)}},
        20261128: {"Day": {"N": "20261128"}, "c:PAGEVIEW": {"N": "1"}, "bytes": {"N": str(len("PAGEVIEW") + 11)}},
        -20261128: {"Day": {"N": "-20261128"}, "c:STATUS": {"N": "1"}, "bytes": {"N": str(len("STATUS") + 11)}},
    }
    reply = client.get("/summary?from=20261126&to=20261127").json
    assert reply["totals"] == {"PAGEVIEW": 3, "STATUS": 1}
    assert [day["counts"] for day in reply["days"]] == [{"PAGEVIEW": 1}, {"PAGEVIEW": 2, "STATUS": 1}]


def test_one_client_per_process(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    moto_app.test_client().get("/?e=A")
    first = store.client
    moto_app.test_client().get("/?e=A")
    assert store.client is first


def test_summary_of_366_days_takes_8_batch_gets(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    moto_app.config["BACKDATE_DAYS"] = 1000  # seeds 2025-01-01, older than the default window
    with moto_app.app_context():
        store = get_store()
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    moto_app.test_client().get("/?e=A&c=20250101")
    calls.clear()
    reply = moto_app.test_client().get("/summary?from=20250101&to=20260101")
    assert reply.json["totals"] == {"A": 1}
    assert calls == ["BatchGetItem"] * 8  # a day item and a newcomers item a day, 100 keys a call


def test_unprocessed_keys_are_retried(moto_app):
    store, stub = stubbed(moto_app)
    key = {"Day": {"N": "20261127"}}
    stub.add_response(
        "batch_get_item",
        {"Responses": {"TEST_counters": []},
         "UnprocessedKeys": {"TEST_counters": {"Keys": [key], "ConsistentRead": True}}},
    )
    stub.add_response(
        "batch_get_item",
        {"Responses": {"TEST_counters": [{**key, "A": {"N": "7"}}]}, "UnprocessedKeys": {}},
        {"RequestItems": {"TEST_counters": {"Keys": [key], "ConsistentRead": True}}},
    )
    with stub:
        reply = moto_app.test_client().get("/summary?from=20261127&to=20261127")
    assert reply.json["totals"] == {"A": 7}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code,retry",
    [("ProvisionedThroughputExceededException", True), ("ThrottlingException", True), ("RequestLimitExceeded", True),
     ("InternalServerError", True), ("AccessDeniedException", False), ("ResourceNotFoundException", False),
     ("UnrecognizedClientException", False)],
)
def test_throttling_and_errors_are_503_with_retry_after_only_when_a_retry_can_help(moto_app, code, retry):
    store, stub = stubbed(moto_app)
    # A throttled call was not applied, so it is sent again; any other error is final.
    for _ in range(ATTEMPTS if code in THROTTLED else 1):
        stub.add_client_error("update_item", service_error_code=code, http_status_code=400)
    with stub:
        reply = moto_app.test_client().get("/?e=A")
    stub.assert_no_pending_responses()
    assert reply.status_code == 503
    assert reply.headers.get("Retry-After") == ("1" if retry else None)
    assert reply.json["status"] == "failure"
    assert code not in reply.json["error"]


def test_throttled_increment_is_sent_again_and_counts_once(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    store, stub = stubbed(moto_app)
    stub.add_client_error("update_item", service_error_code="ThrottlingException", http_status_code=400)
    stub.add_response("update_item", {"Attributes": {"A": {"N": "1"}}})
    with stub:
        assert moto_app.test_client().get("/?e=A").json["count"] == 1
    stub.assert_no_pending_responses()


def test_a_throttled_page_of_an_export_is_asked_for_again(moto_app):
    """A Scan changes nothing, so one throttled page does not end a long export."""
    store, stub = stubbed(moto_app)
    stub.add_client_error("scan", service_error_code="ThrottlingException", http_status_code=400)
    stub.add_response("scan", {"Items": [{"Day": {"N": "20261127"}}], "LastEvaluatedKey": {"Day": {"N": "20261127"}}})
    stub.add_response("scan", {"Items": []})
    stub.add_response("batch_get_item", {"Responses": {store.table: [{"Day": {"N": "20261127"}, "A": {"N": "3"}}]}})
    with stub:
        assert list(store.dump()) == [(20261127, {"A": 3})]
    stub.assert_no_pending_responses()


def test_reply_lost_after_sending_is_not_sent_again(moto_app):
    from botocore.exceptions import ReadTimeoutError

    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    sent = []

    def lose_reply(**_):
        sent.append(1)
        raise ReadTimeoutError(endpoint_url="http://dynamodb")

    store.client.meta.events.register("before-send.dynamodb.UpdateItem", lose_reply)
    reply = moto_app.test_client().get("/?e=A")
    assert reply.status_code == 503
    assert sent == [1]  # an ADD that may have been applied is never resent
    assert reply.headers["Retry-After"] == "1"  # the store may answer next time (docs/abuse.md: it may count twice)


def test_missing_table_is_503_without_retry_after(moto_app):
    for path in ("/?e=A", "/healthz", "/summary"):
        reply = moto_app.test_client().get(path)
        assert reply.status_code == 503, path
        assert "Retry-After" not in reply.headers  # nobody made the table: retrying will not help


def test_health_check_is_one_read_of_the_never_written_day_1(moto_app):
    store, stub = stubbed(moto_app)
    stub.add_response("get_item", {}, {"TableName": "TEST_counters", "Key": {"Day": {"N": "1"}}})
    with stub:
        reply = moto_app.test_client().get("/healthz")
    stub.assert_no_pending_responses()
    assert reply.status_code == 200 and reply.json == {"status": "ok"}


def test_unreachable_endpoint_is_prompt_503(monkeypatch):
    from tests.dynalite import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    client = create_app({"STORE": "dynamodb://"}).test_client()
    started = time.monotonic()
    reply = client.get("/?e=A")
    assert reply.status_code == 503
    assert time.monotonic() - started < 10


def test_create_table_fails_when_recovery_cannot_be_turned_on(moto_app, monkeypatch):
    from botocore.exceptions import ClientError

    with moto_app.app_context():
        client = get_store().client
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateContinuousBackups")
    monkeypatch.setattr(client, "update_continuous_backups", lambda **_: (_ for _ in ()).throw(denied))
    result = moto_app.test_cli_runner().invoke(args=["create-table"])
    assert result.exit_code == 1
    assert "not made ready" in result.output and "AccessDeniedException" in result.output
