"""A first deploy on a new account: refused before anything is made, or finished in one run.

The account's concurrency, point-in-time recovery on a table just made, a role IAM has not propagated yet, a
half-made stage, SnapStart's retained versions and Zappa's version.
"""

from __future__ import annotations

import io
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from counter_app.storage import backups
from deploy import account, checks, recovery, zappa_run
from deploy.stages import stage_settings


def error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Call")


def lambda_client_with(quota: int, unreserved: int, reserved: int | None) -> tuple[object, Stubber]:
    client = boto3.client("lambda", region_name="eu-west-1")
    stub = Stubber(client)
    stub.add_response("get_account_settings", {"AccountLimit": {
        "ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}})
    if reserved is None:
        stub.add_client_error("get_function_concurrency", "ResourceNotFoundException")
    else:
        stub.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": reserved})
    return client, stub


def test_a_new_account_with_a_quota_of_10_is_refused_in_one_sentence():
    client, stub = lambda_client_with(10, 10, None)
    with stub:
        said = account.concurrency_problem(client, "dev", "counter-dev", 2)
    assert said == (
        "This account's Lambda concurrency quota is 10 with 10 unreserved, and Lambda keeps 10 unreserved, so the "
        "dev stage cannot reserve 2: ask for more in Service Quotas (Lambda, Concurrent executions), or run make "
        "deploy STAGE=dev RESERVE=no, which reserves none.")


@pytest.mark.parametrize(("quota", "unreserved", "reserved", "wanted", "fits"), [
    (1000, 1000, None, 5, True),
    (1000, 105, None, 5, True),
    (1000, 104, None, 5, False),
    (1000, 100, 5, 5, True),  # the function's own reservation is given back before it is set again
    (50, 50, None, 1, False),
])
def test_room_for_the_reservation(quota, unreserved, reserved, wanted, fits):
    client, stub = lambda_client_with(quota, unreserved, reserved)
    with stub:
        assert (account.concurrency_problem(client, "prod", "counter-prod", wanted) is None) is fits


def test_no_reservation_asks_nothing():
    assert account.concurrency_problem(object(), "dev", "counter-dev", None) is None


def test_point_in_time_recovery_is_asked_again_until_backups_are_ready():
    calls, waits = [], []

    class Client:
        def update_continuous_backups(self, **kwargs):
            calls.append(kwargs)
            if len(calls) < 3:
                raise error("ContinuousBackupsUnavailableException", "Backups are being enabled for the table")

    backups.enable_point_in_time_recovery(Client(), "LIVE_counters", sleep=waits.append)
    assert len(calls) == 3 and waits == [1, 2]
    assert calls[-1] == {"TableName": "LIVE_counters",
                         "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}


def test_point_in_time_recovery_gives_up_in_the_end_and_other_errors_at_once():
    waits = []

    class Never:
        def update_continuous_backups(self, **kwargs):
            raise error("ContinuousBackupsUnavailableException")

    with pytest.raises(ClientError):
        backups.enable_point_in_time_recovery(Never(), "T", sleep=waits.append)
    assert waits == list(backups.WAITS)

    class Denied:
        def update_continuous_backups(self, **kwargs):
            raise error("AccessDeniedException")

    waits.clear()
    with pytest.raises(ClientError, match="AccessDenied"):
        backups.enable_point_in_time_recovery(Denied(), "T", sleep=waits.append)
    assert waits == []


def test_a_role_lambda_cannot_assume_yet_is_waited_for():
    attempts, waits = [], []

    def create(*args, **kwargs):
        attempts.append(kwargs)
        if len(attempts) < 3:
            raise error("InvalidParameterValueException", "The role defined for the function cannot be assumed by "
                                                          "Lambda.")
        return "arn:aws:lambda:eu-west-1:123456789012:function:counter-dev"

    assert zappa_run.patient(create, sleep=waits.append)(function_name="counter-dev").endswith(":counter-dev")
    assert len(attempts) == 3 and waits == [2, 4]


def test_other_create_function_errors_are_not_retried():
    waits = []

    def create(**kwargs):
        raise error("InvalidParameterValueException", "Specified ReservedConcurrentExecutions for function "
                                                      "decreases account's UnreservedConcurrentExecution below its "
                                                      "minimum value of [10].")

    with pytest.raises(ClientError, match="ReservedConcurrentExecutions"):
        zappa_run.patient(create, sleep=waits.append)()
    assert waits == []


def function_zip() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
    return data.getvalue()


def test_a_function_without_its_stack_is_half_made_and_cleared():
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        assert recovery.state(session, "counter-dev") == "new"
        role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        session.client("lambda").create_function(FunctionName="counter-dev", Runtime="python3.13", Role=role,
                                                 Handler="handler.lambda_handler", Code={"ZipFile": function_zip()})
        assert recovery.state(session, "counter-dev") == "half-made"
        assert "deleted it" in recovery.clear(session, "counter-dev")
        assert recovery.state(session, "counter-dev") == "new"


def test_a_function_with_its_stack_is_deployed():
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        session.client("lambda").create_function(FunctionName="counter-dev", Runtime="python3.13", Role=role,
                                                 Handler="handler.lambda_handler", Code={"ZipFile": function_zip()})
        session.client("cloudformation").create_stack(StackName="counter-dev", TemplateBody=(
            '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'))
        assert recovery.state(session, "counter-dev") == "deployed"


def test_snap_start_with_one_retained_version_is_refused_before_anything_is_made():
    prod = {**stage_settings("prod"), "num_retained_versions": 1}
    assert checks._guard_rail_problems("prod", prod) == [
        'The prod stage has "snap_start" and "num_retained_versions" 1: Zappa publishes two versions per deploy and '
        "its alias points at the previous one, so keep 2 or more."]
    assert checks._guard_rail_problems("dev", {**stage_settings("dev"), "num_retained_versions": 1}) == []


@pytest.mark.parametrize(("version", "refused"), [
    ("0.62.1", True), ("0.60.2", True), ("0.9.0", True), ("0.63.0", False), ("0.63.1rc1", False), ("1.0", False)])
def test_zappa_older_than_0_63_is_refused(version, refused):
    found = checks.zappa_problems(version)
    assert bool(found) is refused
    if refused:
        assert found[0].startswith(f"Zappa {version} is older than 0.63.0")


def test_the_deploy_venv_runs_zappa_0_63_or_newer():
    assert checks.zappa_problems() == []


@pytest.mark.parametrize("limit", [9, 0, "300", 1.5, True, None])
def test_a_waf_rate_limit_waf_would_refuse_is_refused_first(limit):
    prod = {**stage_settings("prod"), "waf_rate_limit": limit}
    assert checks._guard_rail_problems("prod", prod) == [
        'The prod stage\'s "waf_rate_limit" must be a whole number of requests per client IP in 5 minutes, 10 or '
        "more (WAF's least)."]


def test_the_front_door_keeps_the_apps_body_limit():
    """WAF refuses a body over 16 KB: a stage behind it must not let the app wait for larger ones."""
    prod = stage_settings("prod")
    larger = {**prod, "aws_environment_variables": {**prod["aws_environment_variables"],
                                                    "COUNTER_MAX_CONTENT_LENGTH": "65536"}}
    assert checks._guard_rail_problems("prod", larger) == [
        "The prod stage's front door refuses bodies over 16384 bytes, the app's default: leave "
        "COUNTER_MAX_CONTENT_LENGTH unset there."]
    assert checks._guard_rail_problems("dev", {**stage_settings("dev"), **{
        "aws_environment_variables": larger["aws_environment_variables"]}}) == []
