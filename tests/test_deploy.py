"""Deploy rehearsal: ``make deploy``, ``zappa status`` and ``zappa undeploy`` against moto_server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from deploy.stages import SETTINGS, stage_settings
from tests.dynalite import free_port, wait_for_port
from tests.lambda_package import ROOT, install_tools, make, offline_environ

ZAPPA = ROOT / ".venv-deploy" / "bin" / "zappa"
STAGES = {"dev": "TEST", "prod": "LIVE"}


@pytest.fixture(scope="module")
def moto_endpoint():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait(timeout=10)


def zappa(*args: str, env: dict[str, str]) -> str:
    """``zappa ARGS`` from the deploy venv, as the README runs it (with that venv active)."""
    done = subprocess.run([str(ZAPPA), *args], cwd=ROOT, env={**env, "VIRTUAL_ENV": str(ZAPPA.parent.parent)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"zappa {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def aws(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1")


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_least_privilege(stage):
    config = stage_settings(stage)
    policy = json.loads((ROOT / config["attach_policy"]).read_text())
    region, name = config["aws_region"], f"{config['project_name']}-{stage}"
    table = f"{config['aws_environment_variables']['COUNTER_TABLE_PREFIX']}_counters"
    assert table == f"{STAGES[stage]}_counters"
    assert policy["Statement"] == [
        {"Sid": "CountersTable", "Effect": "Allow",
         "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
         "Resource": f"arn:aws:dynamodb:{region}:*:table/{table}"},
        {"Sid": "OwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{region}:*:log-group:/aws/lambda/{name}:*"},
    ]


def test_every_stage_gives_its_full_environment():
    """``extends`` is a shallow merge: a stage's environment dict replaces its parent's whole."""
    raw = json.loads(SETTINGS.read_text())
    for stage in STAGES:
        assert set(raw[stage]["aws_environment_variables"]) == {"COUNTER_STORE", "COUNTER_TABLE_PREFIX"}
        assert raw[stage]["aws_environment_variables"]["COUNTER_STORE"] == "dynamodb://"


def test_deploy_status_undeploy_dev(moto_endpoint):
    install_tools()
    env = offline_environ(AWS_ENDPOINT_URL=moto_endpoint)
    config = stage_settings("dev")
    out = make("deploy", "STAGE=dev", env=env)
    assert "created table TEST_counters" in out
    assert "Deployment complete!: https://" in out and ".execute-api.eu-west-1.amazonaws.com/dev" in out

    function = aws("lambda", moto_endpoint).get_function_configuration(FunctionName="counter-dev")
    assert function["Runtime"] == "python3.11"
    assert function["Handler"] == "handler.lambda_handler"
    assert (function["MemorySize"], function["Timeout"]) == (config["memory_size"], config["timeout_seconds"])
    assert function["Environment"]["Variables"] == {"COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": "TEST"}
    assert function["CodeSize"] < 2 * 1024 * 1024

    iam = aws("iam", moto_endpoint)
    role = "counter-dev-ZappaLambdaExecutionRole"
    assert function["Role"].endswith(f":role/{role}")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["zappa-permissions"]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    granted = iam.get_role_policy(RoleName=role, PolicyName="zappa-permissions")["PolicyDocument"]
    assert granted == json.loads((ROOT / "deploy" / "policy-dev.json").read_text())
    actions = [action for statement in granted["Statement"] for action in statement["Action"]]
    assert not [action for action in actions if "*" in action]

    status = zappa("status", "dev", env=env)
    assert "Lambda Name:          counter-dev" in status
    assert "API Gateway URL:      https://" in status

    zappa("undeploy", "dev", "--yes", env=env)
    functions = aws("lambda", moto_endpoint).list_functions()["Functions"]
    assert "counter-dev" not in [f["FunctionName"] for f in functions]
    assert "TEST_counters" in aws("dynamodb", moto_endpoint).list_tables()["TableNames"]
