"""The scheduled alert check inside the packaged function, called as Zappa's scheduled event calls it."""

from __future__ import annotations

import json
import uuid

from tests.lambda_package import LambdaFunction
from tests.receiver import Receiver

RULE = "counter-dev-counter_app.alerts.scheduled"  # Zappa's rule name: <function name>-<module.function>


def scheduled_event() -> dict:
    """What EventBridge sends through the InputTransformer Zappa sets on its rule (zappa/core.py, schedule_events)."""
    return {"time": "2026-11-27T12:00:00Z", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "region": "eu-west-1", "detail": {}, "version": "0",
            "resources": [f"arn:aws:events:eu-west-1:123456789012:rule/{RULE}"], "id": str(uuid.uuid4()),
            "kwargs": {}}


def test_the_scheduled_event_checks_the_rules_once(packages, tables, dynalite):
    with Receiver() as receiver:
        rules = {"webhooks": {"team": {"url": receiver.url, "format": "slack"}},
                 "rules": [{"name": "no-checkouts", "kind": "below", "event": "ALERTCHECKOUT", "fewer_than": 1,
                            "by": "00:00", "to": "team"}]}
        with LambdaFunction(packages["dev"], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint,
                            COUNTER_ALERTS=json.dumps(rules), COUNTER_ALERTS_ALLOW_PRIVATE="127.0.0.1/32") as function:
            first, again = function.invoke(scheduled_event()), function.invoke(scheduled_event())
            logs = function.logs
        assert len(receiver.requests) == 1, logs
    assert first[0] == "Salts of the days before today purged.", first  # whatever the traffic (issue 21)
    first, again = ([line for line in said if not line.startswith("Salts ")] for said in (first, again))
    assert first[0].startswith("no-checkouts: fired, sent to team (1 attempt): 0 ALERTCHECKOUT today by "), first
    assert again[0].startswith("no-checkouts: fired already today, not sent again"), again
    assert json.loads(receiver.requests[0][2])["text"].startswith("Alert: no-checkouts: fewer than 1 ALERTCHECKOUT")
