"""Deploy rehearsal against moto_server on 127.0.0.1: ``make deploy``'s refusals, its guard rails, and the secret.

The rehearsal runs in a copy of the project whose ``s3_bucket`` is set, as a user's would be, and keeps
the uploaded zip in (moto's) S3 so the test can read exactly what was deployed.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import uuid
import zipfile

import boto3
import pytest
from botocore.stub import Stubber

from deploy import checks, guardrails
from deploy.stages import SETTINGS, stage_settings
from tests import aws_actions
from tests.dynalite import LocalServer, free_port
from tests.lambda_package import ROOT, copy_project, install_tools, make, offline_environ, try_make

ZAPPA = ROOT / ".venv-deploy" / "bin" / "zappa"
STAGES = {"dev": "TEST", "prod": "LIVE"}
BUCKET = "counter-rehearsal-deploys"
TOKEN = f"rehearsal-{uuid.uuid4().hex}"  # unique text: searched for in every byte the deploy left behind
EVENTS = "PAGEVIEW,SIGNUP"


@pytest.fixture(scope="module")
def moto_recording(tmp_path_factory):
    """Where moto_server writes every request it gets, one JSON line each."""
    return tmp_path_factory.mktemp("moto") / "requests.jsonl"


class MotoWithHttpApis(LocalServer):
    """moto_server with HTTP API stacks (tests/moto_apigateway.py)."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.moto_apigateway", "-H", "127.0.0.1", "-p", str(self.port)]


@pytest.fixture(scope="module")
def moto_endpoint(moto_recording):
    """moto_server with HTTP API stacks, recording its requests; its log holds moto's tracebacks, when it fails."""
    recording = {"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(moto_recording)}
    with MotoWithHttpApis(log=moto_recording.with_name("server.log"), env=recording) as server:
        yield server.endpoint


def recorded(recording, method: str, path: str) -> list[dict]:
    """The JSON bodies of the recorded requests ``method path``: what was asked of AWS, not what moto kept."""
    entries = [json.loads(line) for line in recording.read_text().splitlines()]
    return [json.loads(base64.b64decode(entry["body"]) if entry["body_encoded"] else entry["body"])
            for entry in entries if entry["method"] == method and entry["url"].split("?")[0].endswith(path)]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's copy of the project: their bucket set, and the deployed zip kept in S3 for inspection."""
    install_tools()
    root = copy_project(tmp_path_factory.mktemp("project") / "counter")
    settings = json.loads((root / "zappa_settings.json").read_text())
    settings["dev"] |= {"s3_bucket": BUCKET, "delete_s3_zip": False}
    (root / "zappa_settings.json").write_text(json.dumps(settings, indent=4))
    # Where a user might keep the token for their shell: it must reach the function, never the zip.
    (root / ".env").write_text(f"COUNTER_READ_TOKEN={TOKEN}\n")
    return root


def zappa(*args: str, env: dict[str, str], cwd=ROOT) -> subprocess.CompletedProcess:
    """``zappa ARGS`` from the deploy venv, as the README runs it (with that venv active)."""
    return subprocess.run([str(ZAPPA), *args], cwd=cwd, env={**env, "VIRTUAL_ENV": str(ZAPPA.parent.parent)},
                          capture_output=True, text=True, timeout=300)


def aws(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1")


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_least_privilege(stage):
    config = stage_settings(stage)
    policy = json.loads((ROOT / config["attach_policy"]).read_text())
    region, name = config["aws_region"], f"{config['project_name']}-{stage}"
    table = f"{config['aws_environment_variables']['COUNTER_TABLE_PREFIX']}_counters"
    assert table == f"{STAGES[stage]}_counters"
    ids = f"arn:aws:dynamodb:{region}:*:table/{STAGES[stage]}_counter_ids"
    assert policy["Statement"] == [
        {"Sid": "CountersTable", "Effect": "Allow",
         "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
         "Resource": f"arn:aws:dynamodb:{region}:*:table/{table}"},
        # The stream path puts an id record alone; the transaction path puts it inside TransactWriteItems.
        {"Sid": "IdsTable", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": ids},
        # Visitors: the days' salts, read, made, and deleted once over (TTL is late).
        {"Sid": "Salts", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
         "Resource": ids.replace("_counter_ids", "_counter_salts")},
        # What the event source mapping reads with the function's role: the ids table's stream, nothing else.
        {"Sid": "IdsStream", "Effect": "Allow", "Action": [
            "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
         "Resource": f"{ids}/stream/*"},
        {"Sid": "AggregatorFailures", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": f"arn:aws:sqs:{region}:*:{name}-aggregator-failures"},
        {"Sid": "OwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{region}:*:log-group:/aws/lambda/{name}:*"},
    ]


def test_every_stage_gives_its_full_environment_and_no_secret():
    """``extends`` is a shallow merge: a stage's environment dict replaces its parent's whole."""
    raw = json.loads(SETTINGS.read_text())
    # Zappa's handler makes the app at import, in Lambda's init phase: what SnapStart snapshots (prod).
    on_import = {"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"}
    assert raw["dev"]["aws_environment_variables"] == {
        "COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": "TEST", "COUNTER_EVENTS": "*", **on_import}
    # prod's events are the owner's to choose: make deploy refuses until they do.
    # prod's token lives in SSM Parameter Store, not in the function's configuration.
    assert raw["prod"]["aws_environment_variables"] == {
        "COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": "LIVE",
        "COUNTER_READ_TOKEN_FROM": "ssm:/counter/prod/read-token", **on_import}


@pytest.mark.parametrize("stage", STAGES)
def test_shipped_stages_carry_every_guard_rail(stage):
    config = stage_settings(stage)
    assert config["debug"] is False
    assert 1 <= config["lambda_concurrency"] <= 10 and config["num_retained_versions"] == 3
    # prod's stage throttle is a bill ceiling above a real site's peak; its WAF rule limits each address first.
    assert (config["api_throttle_rate"], config["api_throttle_burst"], config.get("waf_rate_limit")) == {
        "dev": (1, 5, None), "prod": (10, 30, 300)}[stage]
    assert config["log_retention_days"] in (14, 30)
    ready = {"COUNTER_READ_TOKEN": TOKEN, "COUNTER_EVENTS": EVENTS}
    assert checks.problems(stage, ready) == [
        "s3_bucket in zappa_settings.json is still the placeholder counter-zappa-deploys-change-me: set it to a "
        "bucket you own in eu-west-1."]


def test_snap_start_needs_the_app_made_at_import_and_no_keep_warm():
    prod = stage_settings("prod")
    assert prod["snap_start"] == "PublishedVersions" and checks._guard_rail_problems("prod", prod) == []
    made_late = {**prod, "aws_environment_variables": {"COUNTER_STORE": "dynamodb://"}, "keep_warm": True}
    assert checks._guard_rail_problems("prod", made_late) == [
        'The prod stage has "snap_start" but not INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT=true in its '
        "aws_environment_variables: Zappa would make the app after the snapshot, on every restore.",
        'The prod stage has "snap_start" and "keep_warm": the pings keep $LATEST warm, which SnapStart never '
        "serves (API Gateway calls its alias): set keep_warm to false."]


@pytest.mark.parametrize(
    ("where", "stage", "environ", "sentence"),
    [("shipped", "dev", {"COUNTER_READ_TOKEN": TOKEN}, "s3_bucket in zappa_settings.json is still the placeholder"),
     ("copy", "dev", {"COUNTER_EVENTS": EVENTS},
      "make deploy STAGE=dev needs COUNTER_READ_TOKEN in your environment"),
     ("copy", "dev", {}, "make deploy STAGE=dev needs COUNTER_READ_TOKEN in your environment"),
     ("copy", "prod", {"COUNTER_READ_TOKEN": TOKEN}, "make deploy STAGE=prod needs COUNTER_EVENTS"),
     ("copy", "prod", {"COUNTER_READ_TOKEN": "too-short", "COUNTER_EVENTS": "*"},
      "COUNTER_READ_TOKEN has 9 characters; it needs at least 16"),
     ("copy", "dev", {"COUNTER_READ_TOKEN": ""}, "COUNTER_READ_TOKEN is empty"),
     ("copy", "prod", {"COUNTER_READ_TOKEN": TOKEN, "COUNTER_EVENTS": "PAGEVIEW,bad name"},
      "The prod function would refuse to start: COUNTER_EVENTS=")],
    ids=["placeholder-bucket", "dev-no-token-events-set", "dev-no-token", "prod-no-events", "short-token",
         "empty-token",
         "bad-events"],
)
def test_make_deploy_refuses_before_touching_aws(project, where, stage, environ, sentence):
    """Every refusal is one sentence naming what to set, and comes before any AWS call (the endpoint is dead)."""
    dead = offline_environ(AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}", **environ)
    done = try_make("deploy", f"STAGE={stage}", env=dead, cwd=ROOT if where == "shipped" else project)
    assert done.returncode != 0
    assert sentence in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Could not connect" not in done.stderr + done.stdout
    assert "too-short" not in done.stdout + done.stderr  # a secret is never echoed


def test_zappa_run_in_the_project_folder_refuses_to_build(project):
    """Zappa zips its working folder; only make deploy and make package stage the app's files for it."""
    (project / "counts.csv").write_text("day,event,count\n")
    done = zappa("package", "dev", env=offline_environ(), cwd=project)
    assert done.returncode != 0
    assert "Use make deploy STAGE=... or make package STAGE=..." in done.stderr + done.stdout
    assert not list(project.glob("*.zip"))


def test_throttling_of_an_http_api_stage():
    """A v2 (HTTP API) stage is throttled through its default route settings; moto_server lacks UpdateStage."""
    session = boto3.session.Session(region_name="eu-west-1")
    clients = {name: session.client(name) for name in ("cloudformation", "apigatewayv2")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    stubs["cloudformation"].add_response(
        "describe_stack_resource",
        {"StackResourceDetail": {"LogicalResourceId": "ApiV2", "PhysicalResourceId": "a1b2c3", "ResourceType":
                                 "AWS::ApiGatewayV2::Api", "LastUpdatedTimestamp": "2026-11-27T12:00:00Z",
                                 "ResourceStatus": "CREATE_COMPLETE"}},
        {"StackName": "counter-prod", "LogicalResourceId": "ApiV2"})
    stubs["apigatewayv2"].add_response(
        "update_stage", {"StageName": "prod"},
        {"ApiId": "a1b2c3", "StageName": "prod",
         "DefaultRouteSettings": {"ThrottlingRateLimit": 10.0, "ThrottlingBurstLimit": 30}})
    config = {**stage_settings("prod"), "apigateway_version": "v2"}
    with stubs["cloudformation"], stubs["apigatewayv2"]:
        said = guardrails.throttle(type("Session", (), {"client": lambda self, name: clients[name]})(), config,
                                   "prod", "counter-prod")
        for stub in stubs.values():
            stub.assert_no_pending_responses()
    assert said == "Throttled stage prod of API a1b2c3 (HTTP) to 10 requests/s, bursts of 30."


def everything_stored(endpoint: str) -> dict[str, bytes]:
    """Every object in every bucket of the rehearsal's S3, by bucket/key."""
    s3 = aws("s3", endpoint)
    return {f"{bucket['Name']}/{item['Key']}": s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read()
            for bucket in s3.list_buckets()["Buckets"]
            for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])}


@pytest.mark.parametrize("stage", STAGES)
def test_deploy_status_undeploy(project, moto_endpoint, moto_recording, stage, monkeypatch):
    config = stage_settings(stage)
    env = offline_environ(AWS_ENDPOINT_URL=moto_endpoint, COUNTER_READ_TOKEN=TOKEN, COUNTER_EVENTS=EVENTS)
    before = len(moto_recording.read_text().splitlines()) if moto_recording.exists() else 0
    out = make("deploy", f"STAGE={stage}", env=env, cwd=project)
    # Every call make deploy made is one docs/deploying.md lists for the deployer's policy.
    called = aws_actions.actions(moto_recording, before)
    missing = sorted(called - aws_actions.documented((ROOT / "docs" / "deploying.md").read_text()))
    assert missing == [], f"make deploy called what docs/deploying.md does not list: {' '.join(missing)}"
    assert f"created table {STAGES[stage]}_counters" in out
    assert TOKEN not in out

    name = f"counter-{stage}"
    lambdas = aws("lambda", moto_endpoint)
    function = lambdas.get_function_configuration(FunctionName=name)
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["Handler"] == config["lambda_handler"] == "counter_app.lambda_entry.lambda_handler"
    assert (function["MemorySize"], function["Timeout"]) == (config["memory_size"], config["timeout_seconds"])
    token = {"dev": {"COUNTER_READ_TOKEN": TOKEN},
             "prod": {"COUNTER_READ_TOKEN_FROM": "ssm:/counter/prod/read-token"}}[stage]
    assert function["Environment"]["Variables"] == {
        "COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": STAGES[stage], "COUNTER_EVENTS": EVENTS,
        **token, "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"}
    assert function["CodeSize"] < 3 * 1024 * 1024
    assert lambdas.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == \
        config["lambda_concurrency"]
    # moto keeps no SnapStart setting: what Zappa asked Lambda for is in the request it sent.
    (created,) = [body for body in recorded(moto_recording, "POST", "/2015-03-31/functions")
                  if body["FunctionName"] == name]
    snap_start = {"dev": "None", "prod": "PublishedVersions"}[stage]
    assert created["SnapStart"] == {"ApplyOn": snap_start} and created["Architectures"] == ["arm64"]

    # The front door: an HTTP API whose one $default route calls the function (prod: the SnapStart alias).
    target = function["FunctionArn"]
    if stage == "prod":
        alias = lambdas.get_alias(FunctionName=name, Name="snapstart")
        assert alias["FunctionVersion"] != "$LATEST"
        target = alias["AliasArn"]
    gateway = aws("apigatewayv2", moto_endpoint)
    (api,) = [item for item in gateway.get_apis()["Items"] if item["Name"] == name]
    assert api["ProtocolType"] == "HTTP"
    assert f"Deployment complete!: https://{api['ApiId']}.execute-api.eu-west-1.amazonaws.com/{stage}" in out
    assert f"Throttled stage {stage} of API {api['ApiId']} (HTTP) to {config['api_throttle_rate']} requests/s" in out
    (integration,) = gateway.get_integrations(ApiId=api["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        "AWS_PROXY", target, "2.0")
    assert [route["RouteKey"] for route in gateway.get_routes(ApiId=api["ApiId"])["Items"]] == ["$default"]
    throttle = gateway.get_stage(ApiId=api["ApiId"], StageName=stage)["DefaultRouteSettings"]
    assert (throttle["ThrottlingRateLimit"], throttle["ThrottlingBurstLimit"]) == (
        config["api_throttle_rate"], config["api_throttle_burst"])
    assert aws("apigateway", moto_endpoint).get_rest_apis()["items"] == []  # no REST API, billed per request too

    group = aws("logs", moto_endpoint).describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in group] == [
        (f"/aws/lambda/{name}", config["log_retention_days"])]

    # The aggregator: the ids table streams new images into the function (prod: its SnapStart alias), in
    # batches that are bisected on error, with a queue for what still fails.
    ids = aws("dynamodb", moto_endpoint).describe_table(TableName=f"{STAGES[stage]}_counter_ids")["Table"]
    assert ids["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    stream = ids["LatestStreamArn"]
    (mapping,) = lambdas.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    sqs = aws("sqs", moto_endpoint)
    queue = sqs.get_queue_url(QueueName=f"{name}-aggregator-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    assert {key: mapping[key] for key in ("BatchSize", "MaximumBatchingWindowInSeconds", "BisectBatchOnFunctionError",
                                          "MaximumRetryAttempts", "TumblingWindowInSeconds", "StartingPosition")} == {
        "BatchSize": 100, "MaximumBatchingWindowInSeconds": 1, "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10, "TumblingWindowInSeconds": 60, "StartingPosition": "TRIM_HORIZON"}
    (asked,) = [body for body in recorded(moto_recording, "PUT", f"/2015-03-31/event-source-mappings/{mapping['UUID']}")
                or recorded(moto_recording, "POST", "/2015-03-31/event-source-mappings/")
                if body.get("DestinationConfig")][-1:]
    assert asked["FunctionName"] == target  # the function itself for dev, the alias that API Gateway calls for prod
    assert f"The stream {stream} feeds {target}" in out

    iam = aws("iam", moto_endpoint)
    role = f"counter-{stage}-ZappaLambdaExecutionRole"
    assert function["Role"].endswith(f":role/{role}")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["zappa-permissions"]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    granted = iam.get_role_policy(RoleName=role, PolicyName="zappa-permissions")["PolicyDocument"]
    policy = json.loads((ROOT / "deploy" / f"policy-{stage}.json").read_text())
    if stage == "prod":  # and reading its token's one parameter
        policy["Statement"].append({"Sid": "ReadToken", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                                    "Resource": "arn:aws:ssm:eu-west-1:*:parameter/counter/prod/read-token"})
    assert granted == policy
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert [statement["Principal"] for statement in trust["Statement"]] == [{"Service": ["lambda.amazonaws.com"]}]

    events = aws("events", moto_endpoint)
    rules = {rule["Name"]: rule for rule in events.list_rules()["Rules"]}
    assert any(rule.startswith(f"{name}-zappa-keep-warm") for rule in rules) == config["keep_warm"]
    # The alert check: Zappa names the rule <function name>-<module.function>, which its handler calls.
    check = rules[f"{name}-counter_app.alerts.scheduled"]
    assert (check["ScheduleExpression"], check["State"]) == ("rate(15 minutes)", "ENABLED")
    (target,) = events.list_targets_by_rule(Rule=check["Name"])["Targets"]
    assert target["Arn"] == function["FunctionArn"]
    assert '"detail-type": <detail-type>' in target["InputTransformer"]["InputTemplate"]
    granted = json.loads(lambdas.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in granted
            if s["Principal"] in ({"Service": "events.amazonaws.com"}, "events.amazonaws.com")] == [check["Arn"]]

    if stage == "prod":
        assert_token_in_ssm_only(moto_endpoint, name)
        assert_front_door(moto_endpoint, name, api["ApiId"], out)
    # The token reached Lambda's configuration (dev) or SSM (prod) and nothing else: not the zip, not S3, not the
    # output.
    stored = everything_stored(moto_endpoint)
    zips = {key: data for key, data in stored.items() if key.startswith(f"{BUCKET}/{name}-") and key.endswith(".zip")}
    assert len(zips) == 1 and stored
    assert [key for key, data in stored.items() if TOKEN.encode() in data] == []
    shipped = zipfile.ZipFile(io.BytesIO(next(iter(zips.values()))))
    assert [n for n in shipped.namelist() if TOKEN.encode() in shipped.read(n)] == []
    assert "DEBUG=False" in shipped.read("zappa_settings.py").decode()
    # Zappa's handler sends the stream's records to the aggregator by this mapping of the stream's ARN.
    assert f"AWS_EVENT_MAPPING={{'{stream}': ['counter_app.aggregate.handler']}}" in shipped.read(
        "zappa_settings.py").decode()
    assert "counter_app/__init__.py" in shipped.namelist()
    assert "counter_app/__pycache__/counting.cpython-313.pyc" in shipped.namelist()  # the post-package step's zip
    assert "markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so" in shipped.namelist()
    assert not {".env", "zappa_settings.json", "Makefile"} & set(shipped.namelist())

    if stage == "dev":
        assert_token_survives_an_update(moto_endpoint, monkeypatch, config, function, name)

    status = zappa("status", stage, env=env, cwd=project)
    assert status.returncode == 0 and f"Lambda Name:          {name}" in status.stdout

    assert zappa("undeploy", stage, "--yes", env=env, cwd=project).returncode == 0
    assert name not in [f["FunctionName"] for f in lambdas.list_functions()["Functions"]]
    assert f"{STAGES[stage]}_counters" in aws("dynamodb", moto_endpoint).list_tables()["TableNames"]


def assert_token_in_ssm_only(endpoint: str, name: str) -> None:
    """prod: the token is the SecureString parameter, and in no configuration of the function or its versions."""
    parameter = aws("ssm", endpoint).get_parameter(Name="/counter/prod/read-token", WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", TOKEN)
    lambdas = aws("lambda", endpoint)
    versions = lambdas.list_versions_by_function(FunctionName=name)["Versions"]
    assert len(versions) >= 2  # $LATEST and the published versions SnapStart snapshots
    assert [v["Version"] for v in versions if TOKEN in json.dumps(v)] == []
    for version in versions:
        got = lambdas.get_function_configuration(FunctionName=name, Qualifier=version["Version"])
        assert TOKEN not in json.dumps(got, default=str)


def assert_front_door(endpoint: str, name: str, api: str, out: str) -> None:
    """prod: a CLOUDFRONT web ACL in us-east-1 with one rate rule per client IP, on a distribution before the API."""
    wafv2 = boto3.client("wafv2", endpoint_url=endpoint, region_name="us-east-1")
    (summary,) = [acl for acl in wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] if acl["Name"] == name]
    acl = wafv2.get_web_acl(Name=name, Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]
    rate, body = acl["Rules"]
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": 300, "AggregateKeyType": "IP",
                                                       "EvaluationWindowSec": 300}
    assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    assert body["Statement"]["SizeConstraintStatement"]["Size"] == 16 * 1024
    assert body["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413
    assert acl["DefaultAction"] == {"Allow": {}}
    cloudfront = aws("cloudfront", endpoint)
    (distribution,) = [d for d in cloudfront.list_distributions()["DistributionList"]["Items"] if d["Comment"] == name]
    assert distribution["WebACLId"] == summary["ARN"]  # CloudFront's association: the ACL's ARN in its config
    (origin,) = distribution["Origins"]["Items"]
    assert origin["DomainName"] == f"{api}.execute-api.eu-west-1.amazonaws.com"
    assert f"Front door: https://{distribution['DomainName']}/prod/" in out


def assert_token_survives_an_update(endpoint, monkeypatch, config, function, name) -> None:
    """A later zappa update sends the committed environment only; Zappa keeps what the function already has."""
    from zappa.core import Zappa

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    Zappa(aws_region="eu-west-1", desired_role_arn=function["Role"]).update_lambda_configuration(
        function["FunctionArn"], name, function["Handler"], timeout=function["Timeout"],
        memory_size=function["MemorySize"], runtime=function["Runtime"],
        aws_environment_variables=dict(config["aws_environment_variables"]), wait=False)
    assert aws("lambda", endpoint).get_function_configuration(FunctionName=name)["Environment"]["Variables"][
        "COUNTER_READ_TOKEN"] == TOKEN


def test_a_new_account_with_a_quota_of_10(project, tmp_path):
    """Refused before anything is made, in one sentence; then, with RESERVE=no, a stage a failed first deploy left
    half-made (a function, no stack) is deployed in one run, though Lambda refuses the new role twice at first."""
    quota = {"MOTO_LAMBDA_CONCURRENCY_QUOTA": "10",  # moto's PutFunctionConcurrency enforces it, as Lambda would
             "MOTO_ROLE_NOT_READY": "2"}  # and the first two CreateFunction calls find the role not assumable yet
    with MotoWithHttpApis(log=tmp_path / "server.log", env=quota) as server:
        env = offline_environ(AWS_ENDPOINT_URL=server.endpoint, COUNTER_READ_TOKEN=TOKEN, COUNTER_EVENTS=EVENTS)
        refused = try_make("deploy", "STAGE=dev", env=env, cwd=project)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert ("Not deploying: This account's Lambda concurrency quota is 10 with 10 unreserved, and Lambda keeps "
                "10 unreserved, so the dev stage cannot reserve 2: ask for more in Service Quotas") in refused.stderr
        lambdas = aws("lambda", server.endpoint)
        assert aws("dynamodb", server.endpoint).list_tables()["TableNames"] == []
        assert lambdas.list_functions()["Functions"] == []

        from tests.test_first_deploy import function_zip

        role = aws("iam", server.endpoint).create_role(
            RoleName="an-earlier-role", AssumeRolePolicyDocument=(ROOT / "deploy" / "assume-policy.json").read_text())
        lambdas.create_function(FunctionName="counter-dev", Runtime="python3.13", Role=role["Role"]["Arn"],
                                Handler="handler.lambda_handler", Code={"ZipFile": function_zip()})
        out = make("deploy", "STAGE=dev", "RESERVE=no", env=env, cwd=project)
        assert "Function counter-dev had no API (a first deploy stopped half-way)" in out
        # Lambda refused Zappa's new role twice; the deploy waited and went on, in this one run.
        assert out.count("Lambda cannot assume the new role yet") == 2
        (api,) = aws("apigatewayv2", server.endpoint).get_apis()["Items"]
        assert "Throttled stage dev of API" in out and api["Name"] == "counter-dev"
        assert "ReservedConcurrentExecutions" not in lambdas.get_function_concurrency(FunctionName="counter-dev")
        handler = lambdas.get_function_configuration(FunctionName="counter-dev")["Handler"]
        assert handler == "counter_app.lambda_entry.lambda_handler"
