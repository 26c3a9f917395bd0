"""Every request ends inside its deadline: a store slow on every call gets the app's 503 JSON, with Retry-After."""

from __future__ import annotations

import json
from typing import Any

import pytest

from counter_app import create_app, deadline
from counter_app.deadline import Deadline, OutOfTime
from counter_app.storage.dynamodb import BATCH_ATTEMPTS, CALL_SECONDS, DynamoDBStorage
from counter_app.store import get_store
from deploy import checks
from deploy.stages import stage_settings
from tests.conftest import NOW, dynalite_app
from tests.lambda_package import LambdaFunction, http_event
from tests.proxy import Proxy

SLOW = 1.9  # seconds a slow store takes to answer each call: inside the client's 2 s read timeout
YEAR = {"from": "2025-11-28", "to": "2026-11-27"}  # 365 days: 730 items, 8 BatchGetItem calls of 100 keys


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowClient:
    """A DynamoDB client whose every call takes :data:`SLOW` seconds on ``clock``; each BatchGetItem leaves every key
    unprocessed, as DynamoDB does to a throttled batch, so ``_batch_get`` goes round again."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append(operation)
            self.clock.now += SLOW
            if operation == "batch_get_item":
                return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}
            return {}

        return call


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(deadline, "clock", fake)
    return fake


def slow_app(clock: Clock, **config: Any) -> tuple[Any, SlowClient]:
    """An app on DynamoDB whose client is slow on every call, and backoff sleeps that move ``clock``."""
    app = create_app({"TESTING": True, "STORE": "dynamodb://", "CLOCK": lambda: NOW, **config})
    store = DynamoDBStorage("dynamodb://", sleep=lambda seconds: setattr(clock, "now", clock.now + seconds))
    store._client = slow = SlowClient(clock)
    app.extensions["counter.store"] = store
    return app, slow


def test_a_call_starts_only_if_it_ends_before_the_deadline(clock):
    token = deadline._current.set(Deadline(10.0, clock))
    try:
        deadline.check(10.0)
        clock.now = 7.0
        deadline.check(3.0)
        clock.now = 7.01
        with pytest.raises(OutOfTime) as caught:
            deadline.check(3.0)
        assert caught.value.transient
        slept: list[float] = []
        pause = deadline.paced(slept.append, 3.0)
        clock.now = 6.5
        pause(0.5)
        with pytest.raises(OutOfTime):
            pause(0.6)  # the call after it would end at 10.1
        assert slept == [0.5]
    finally:
        deadline._current.reset(token)
    deadline.check(1e9)  # no request, no deadline: the CLI's import and export take their time


@pytest.mark.parametrize(("seconds", "calls", "taken"),
                         [(10, 4, 4 * SLOW + 0.35), (900, BATCH_ATTEMPTS, 5 * SLOW + 1.55)])
def test_unprocessed_batches_end_in_a_503_before_the_deadline(clock, seconds, calls, taken):
    """Five BatchGetItem rounds of 1.9 s and their backoffs take 11.05 s: past a 10 s timeout without a deadline."""
    app, slow = slow_app(clock, REQUEST_SECONDS=seconds)
    reply = app.test_client().get("/summary", query_string={"from": "2026-11-27", "to": "2026-11-27"})
    assert reply.status_code == 503
    assert reply.json["status"] == "failure" and "retry" in reply.json["error"]
    assert reply.headers["Retry-After"] == "1"
    # With 10 s, rounds start with 10, 8.05, 6.05 and 3.95 s left (3 s, a call's connect and read, must fit);
    # the fourth leaves 2.05 s, less than its 0.4 s backoff and another call.
    assert slow.calls == ["batch_get_item"] * calls
    assert clock.now == pytest.approx(taken) and clock.now <= seconds


def test_a_slow_store_answers_503_through_the_app(dynalite, monkeypatch):
    """A proxy holds each of dynalite's replies 1.5 s: a year's summary needs 8 calls; a 4 s deadline admits one."""
    app = dynalite_app(dynalite, monkeypatch, REQUEST_SECONDS=4)
    client = app.test_client()
    with Proxy(dynalite.port) as slow:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", slow.url)
        get_store_of(app)._client = None  # made anew, through the proxy
        assert client.get("/summary", query_string=YEAR).status_code == 200  # made and connected, all 8 calls fast
        slow.delay = 1.5
        reply = client.get("/summary", query_string=YEAR)
    assert reply.status_code == 503, reply.json
    assert reply.json["status"] == "failure" and reply.headers["Retry-After"] == "1"
    assert len(slow.delayed) == 1  # 4 s left: one call (1.5 s); then 2.5 s, less than a call's 3 s


def test_the_packaged_handler_takes_its_deadline_from_lambdas_context(packages, tables, dynalite):
    """Through Zappa's handler: ``COUNTER_REQUEST_SECONDS`` is ignored on Lambda, the context's remaining time rules."""
    with Proxy(dynalite.port) as slow:
        function = LambdaFunction(packages["dev"], AWS_ENDPOINT_URL_DYNAMODB=slow.url, COUNTER_REQUEST_SECONDS="900")
        function.timeout = 5.0  # 4.5 s after the margin: calls start with 4.5 and 3.7 s left, not with 2.9 or less
        with function:
            event = http_event("GET", "/summary", stage="dev", query="from=2025-11-28&to=2026-11-27")
            assert function.invoke(http_event("GET", "/healthz", stage="dev"))["statusCode"] == 200
            slow.delay = 0.8
            reply = function.invoke(event)
            made = len(slow.delayed)
    assert reply["statusCode"] == 503, reply
    assert json.loads(reply["body"])["status"] == "failure" and reply["headers"]["Retry-After"] == "1"
    assert made == 2
    assert "store unavailable" in function.logs


def get_store_of(app: Any) -> Any:
    with app.app_context():
        return get_store()


@pytest.mark.parametrize(("seconds", "refused"), [(3, True), (4, False), (10, False), (900, False), (901, True)])
def test_deploy_refuses_a_timeout_that_leaves_no_room_for_a_call(seconds, refused):
    assert checks.TIMEOUT_SECONDS[0] >= deadline.MARGIN + CALL_SECONDS
    found = checks._guard_rail_problems("prod", {**stage_settings("prod"), "timeout_seconds": seconds})
    assert any("timeout_seconds" in problem for problem in found) is refused
