"""The DynamoDB store under moto, botocore's Stubber, and an unreachable endpoint."""

import time

import pytest

from counter_app import create_app
from counter_app.storage.dynamodb import ATTEMPTS, THROTTLED
from counter_app.store import get_store
from tests.conftest import stubbed


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


def test_item_per_day_with_attribute_per_event(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    client = moto_app.test_client()
    client.get("/?e=PAGEVIEW")
    client.get("/?e=STATUS")
    client.get("/?e=PAGEVIEW")
    with moto_app.app_context():
        item = get_store().client.get_item(TableName="TEST_counters", Key={"Day": {"N": "20261127"}})["Item"]
    # "events" counts the day's names for the cap; it is lower case, so never an event.
    assert item == {"Day": {"N": "20261127"}, "PAGEVIEW": {"N": "2"}, "STATUS": {"N": "1"}, "events": {"N": "2"}}
    assert moto_app.test_client().get("/summary").json["totals"] == {"PAGEVIEW": 2, "STATUS": 1}


def test_one_client_per_process(moto_app):
    moto_app.test_cli_runner().invoke(args=["create-table"])
    with moto_app.app_context():
        store = get_store()
    moto_app.test_client().get("/?e=A")
    first = store.client
    moto_app.test_client().get("/?e=A")
    assert store.client is first


def test_summary_of_366_days_takes_4_batch_gets(moto_app):
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
    assert calls == ["BatchGetItem"] * 4


def test_unprocessed_keys_are_retried(moto_app):
    store, stub = stubbed(moto_app)
    key = {"Day": {"N": "20261127"}}
    stub.add_response(
        "batch_get_item",
        {"Responses": {"TEST_counters": []}, "UnprocessedKeys": {"TEST_counters": {"Keys": [key], "ConsistentRead": True}}},
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
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"]
)
def test_throttling_and_errors_are_503(moto_app, code):
    store, stub = stubbed(moto_app)
    # A throttled call was not applied, so it is sent again; any other error is final.
    for _ in range(ATTEMPTS if code in THROTTLED else 1):
        stub.add_client_error("update_item", service_error_code=code, http_status_code=400)
    with stub:
        reply = moto_app.test_client().get("/?e=A")
    stub.assert_no_pending_responses()
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "1"
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


def test_missing_table_is_503(moto_app):
    assert moto_app.test_client().get("/?e=A").status_code == 503
    assert moto_app.test_client().get("/healthz").status_code == 503


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
