"""The real Zappa package of each stage, run like Lambda runs it: handler.py in a Python with only boto3."""

from __future__ import annotations

import base64
import gzip
import json
import zipfile
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from deploy.package import app_files
from deploy.stages import stage_settings
from tests.dynalite import free_port
from tests.lambda_package import (
    API_HOST, DEPLOY_VENV, STAGES, LambdaFunction, copy_project, http_event, make, new_event, offline_environ,
    rest_event,
)

# The packaged app runs on the real clock, so the day must stay inside its backdating window.
DAY = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y%m%d")
# Zappa's build-time dependencies, boto3 (Lambda has it), test tools and the project's own non-runtime files.
NOT_SHIPPED = ["boto3/", "botocore/", "s3transfer/", "troposphere/", "yaml/", "requests/", "pip/", "setuptools/",
               "placebo/", "cfn_flip/", "tqdm/", "pytest/", "_pytest/", "moto/", "tests/", "deploy/", "docs/",
               "scripts/", "bench/", "zappa/cli.py", "zappa/core.py", ".venv", ".tools/", "node_modules/",
               "zappa_settings.json", "Makefile"]


@pytest.fixture(scope="module", params=list(STAGES))
def function(request, packages, tables, dynalite):
    """A warm function of one stage, counting into dynalite, its numbers public (test_snapstart.py reads prod's
    token from SSM)."""
    with LambdaFunction(packages[request.param], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint,
                        COUNTER_READ_TOKEN_FROM=None) as running:
        yield running


def stage_of(function) -> str:
    return function.package.stage


def body(reply: dict) -> dict:
    return json.loads(reply["body"])


def stored(tables, prefix: str, event: str) -> int | None:
    """The event's count on DAY: its day item and newcomers item (``-DAY``) added up, as the store reads them."""
    counts = []
    for key in (DAY, f"-{DAY}"):
        item = tables.get_item(TableName=f"{prefix}_counters", Key={"Day": {"N": key}}, ConsistentRead=True)
        if event in item.get("Item", {}):
            counts.append(int(item["Item"][event]["N"]))
    return sum(counts) if counts else None


@pytest.mark.parametrize("stage", STAGES)
def test_package_is_slim(packages, stage):
    package = packages[stage]
    assert package.zip.stat().st_size < 3 * 1024 * 1024  # 1.1 MiB of sources, as much again of bytecode
    names = zipfile.ZipFile(package.zip).namelist()
    for needed in ["handler.py", "wsgi.py", "zappa_settings.py", "counter_app/__init__.py", "flask/__init__.py",
                   "tzdata/__init__.py", "zappa/handler.py", "zappa/wsgi.py"]:
        assert needed in names
    for unwanted in NOT_SHIPPED + ["snapshot_restore_py"]:  # Lambda's runtime has the SnapStart hooks' library
        assert not [name for name in names if name.startswith(unwanted)], unwanted
    settings = (package.root / "zappa_settings.py").read_text()
    assert f"API_STAGE='{stage}'" in settings
    assert "APP_MODULE='wsgi'" in settings and "APP_FUNCTION='app'" in settings
    assert "BINARY_SUPPORT=True" in settings
    assert "DEBUG=False" in settings  # Zappa's default, True, puts tracebacks in 500 replies


# What a user's project folder may hold besides the app: none of it may ship.
DECOYS = {".env": "COUNTER_READ_TOKEN=decoy-secret-value\n", "counts.csv": "day,event,count\n20261127,A,1\n",
          "export.json": "[]\n", "backup.sqlite3": "SQLite format 3\0", "notes.txt": "private notes\n",
          "old-site/index.html": "<p>old</p>\n", "counter_app/export.csv": "day,event,count\n",
          "counter_app/notes.txt": "notes\n", "counter_app/static/backup.sqlite3": "SQLite format 3\0",
          "counter_app/templates/draft.txt": "draft\n", "instance/counter.sqlite3": "SQLite format 3\0"}


def test_package_holds_only_the_app_and_its_libraries(tmp_path):
    project = copy_project(tmp_path / "counter")
    for name, text in DECOYS.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    make("package", "STAGE=dev", env=offline_environ(), cwd=project)
    archive = zipfile.ZipFile(project / "dist" / "counter-dev.zip")
    names = set(archive.namelist())
    assert not {name for name in names if name in DECOYS or name.startswith("old-site/")}
    assert not [name for name in names if b"decoy-secret-value" in archive.read(name)]
    own = {str(name) for name in app_files(project)}
    assert own <= names and "counter_app/templates/token.html" in own and "counter_app/static/counter.js" in own
    (site_packages,) = (DEPLOY_VENV / "lib").glob("python3.*/site-packages")
    libraries = {path.name for path in site_packages.iterdir()}
    zappa_own = {"handler.py", "zappa_settings.py", "package_info.json", "__init__.py"}
    sources = {name for name in names if name.endswith(".py")}
    strays = {name for name in names - own - zappa_own - bytecode_of(sources) if name.split("/")[0] not in libraries}
    assert strays == set()


def bytecode_of(sources: set[str]) -> set[str]:
    """The ``__pycache__`` files the runtime's Python (3.13) reads for ``sources``."""
    return {f"{source.rpartition('/')[0]}/__pycache__/{source.rpartition('/')[2][:-3]}.cpython-313.pyc".lstrip("/")
            for source in sources}


def http_api(stage: str, method: str, path: str, query: dict | None = None, **options) -> dict:
    """What the stage's HTTP API (the default front door) sends: payload 2.0, the stage in ``rawPath``."""
    return http_event(method, path, stage=stage, query=urlencode(query or {}), **options)


def rest_api(stage: str, method: str, path: str, query: dict | None = None, **options) -> dict:
    """What a REST API stage (``apigateway_version`` v1) sends: payload 1.0."""
    return rest_event(stage, method, path, query=query, **options)


SHAPES = {"http-api": http_api, "rest-api": rest_api}  # the default first


@pytest.mark.parametrize("shape", SHAPES)
def test_counts_into_the_stage_table(function, tables, shape):
    event, stage = new_event(), stage_of(function)
    for expected in (1, 2):
        reply = function.invoke(SHAPES[shape](stage, "GET", "/", {"e": event.lower(), "c": DAY}))
        assert reply["statusCode"] == 200, reply
        assert body(reply) == {"count": expected, "day": int(DAY), "eventkey": event, "status": "success"}
        assert reply["headers"]["Content-Type"] == "application/json"
    assert stored(tables, STAGES[stage], event) == 2
    other = next(prefix for name, prefix in STAGES.items() if name != stage)
    assert stored(tables, other, event) is None


@pytest.mark.parametrize("shape", SHAPES)
def test_form_and_json_posts(function, tables, shape):
    event, stage = new_event(), stage_of(function)
    reply = function.invoke(SHAPES[shape](stage, "POST", "/", body=f"e={event}&c={DAY}",
                                          headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert reply["statusCode"] == 200, reply
    reply = function.invoke(SHAPES[shape](stage, "POST", "/", body=json.dumps({"e": event, "c": DAY}),
                                          headers={"Content-Type": "application/json"}))
    assert body(reply)["count"] == 2
    assert stored(tables, STAGES[stage], event) == 2


def test_function_url_counts_into_the_stage_table(function, tables):
    """A Function URL sends payload 2.0 with the ``$default`` stage: no prefix on the path."""
    event, stage = new_event(), stage_of(function)
    reply = function.invoke(http_event("GET", "/", query=f"e={event}&c={DAY}"))
    assert reply["statusCode"] == 200, reply
    assert body(reply)["count"] == 1 and stored(tables, STAGES[stage], event) == 1


def test_http_v2_base64_body(function, tables):
    """HTTP APIs and Function URLs base64-encode bodies such as sendBeacon's text/plain."""
    event, stage = new_event(), stage_of(function)
    reply = function.invoke(http_api(stage, "POST", "/", body=f"e={event}&c={DAY}".encode(),
                                     headers={"Content-Type": "text/plain;charset=UTF-8"}))
    assert reply["statusCode"] == 200, reply
    assert stored(tables, STAGES[stage], event) == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_summary_through_the_handler(function, shape):
    event, stage = new_event(), stage_of(function)
    function.invoke(SHAPES[shape](stage, "GET", "/", {"e": event, "c": DAY}))
    query = {"from": DAY, "to": DAY, "e": event}
    reply = function.invoke(SHAPES[shape](stage, "GET", "/summary", query))
    assert reply["statusCode"] == 200, reply
    assert body(reply)["totals"] == {event: 1}
    csv = function.invoke(SHAPES[shape](stage, "GET", "/summary", query | {"format": "csv"}))
    assert csv["statusCode"] == 200
    assert csv["headers"]["Content-Type"].startswith("text/csv")
    assert csv["body"].splitlines() == ["day,event,count,visitors", f"{DAY},{event},1,0"]  # dated by c: no visitor


@pytest.mark.parametrize("shape", SHAPES)
def test_gzip_reply_survives_the_handler(function, shape):
    """A gzipped page leaves as base64 (binary_support), and unpacks to the same page as an uncompressed one."""
    stage = stage_of(function)
    function.invoke(SHAPES[shape](stage, "GET", "/", {"e": new_event(), "c": DAY}))
    plain = function.invoke(SHAPES[shape](stage, "GET", "/dashboard"))
    assert plain["statusCode"] == 200 and not plain.get("isBase64Encoded")
    assert "Content-Encoding" not in plain["headers"] and "<svg" in plain["body"]
    reply = function.invoke(SHAPES[shape](stage, "GET", "/dashboard", headers={"Accept-Encoding": "gzip, br"}))
    assert reply["statusCode"] == 200 and reply["isBase64Encoded"] is True, reply
    assert reply["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(base64.b64decode(reply["body"])).decode() == plain["body"]
    assert len(reply["body"]) < len(plain["body"]) / 2


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [("GET", "/", {}, 400), ("GET", "/", {"e": "no spaces allowed"}, 400), ("PUT", "/", {"e": "A"}, 405),
     ("GET", "/nowhere", {}, 404), ("GET", "/summary", {"from": "2026-11"}, 400)],
)
def test_error_paths(function, method, path, query, status):
    stage = stage_of(function)
    for event in [shape(stage, method, path, query) for shape in SHAPES.values()] + [
            http_event(method, path, query=urlencode(query))]:
        reply = function.invoke(event)
        assert reply["statusCode"] == status, reply
        assert body(reply)["status"] == "failure"
        assert "Traceback" not in reply["body"]


def test_keep_warm_ping_counts_nothing(function, tables):
    stage = stage_of(function)
    ping = {"detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "resources": [f"arn:aws:events:eu-west-1:123456789012:rule/counter-{stage}-zappa-keep-warm-handler"
                          ".keep_warm_callback"], "detail": {}}
    summary = http_api(stage, "GET", "/summary")
    before = function.invoke(summary)["body"]
    assert function.invoke(ping) is None
    assert function.invoke(summary)["body"] == before
    assert function.invoke(http_api(stage, "GET", "/healthz"))["statusCode"] == 200


@pytest.mark.parametrize("records", [{"Records": []}, {}], ids=["empty", "absent"])
def test_a_tumbling_window_ends_with_its_state_even_without_records(function, tables, records):
    """Lambda's last invocation of a window may carry no records and fails without a ``state`` in the reply
    (docs/stores.md); Zappa's handler alone answers such an event ``None``. Nothing is counted or read."""
    stage = stage_of(function)
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/X_counter_ids/stream/2026-11-27T00:00:00.000"
    summary = http_api(stage, "GET", "/summary")
    before = function.invoke(summary)["body"]
    end = {**records, "window": {"start": "2026-11-27T12:00:00Z", "end": "2026-11-27T12:01:00Z"}, "state": {},
           "shardId": "shardId-00000001", "eventSourceARN": arn, "isFinalInvokeForWindow": True,
           "isWindowTerminatedEarly": False}
    assert function.invoke(end) == {"state": {}, "batchItemFailures": []}
    assert function.invoke(summary)["body"] == before
    assert function.invoke(http_api(stage, "GET", "/healthz"))["statusCode"] == 200


def test_lambda_and_zappa_environment(function):
    """The app runs with what Lambda and Zappa put in the environment, and nothing of ours leaks in."""
    stage = stage_of(function)
    code = "import os, json; print('ENV ' + json.dumps(dict(os.environ)))"
    function.invoke({"raw_command": code})
    line = next(line for line in function.logs.splitlines() if line.startswith("ENV "))
    environ = json.loads(line[4:])
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == f"counter-{stage}"
    assert environ["STAGE"] == stage and environ["PROJECT"] == "counter"
    assert environ["SERVERTYPE"] == "AWS Lambda" and environ["FRAMEWORK"] == "Zappa"
    assert environ["AWS_REGION"] == stage_settings(stage)["aws_region"]
    assert {k: v for k, v in environ.items() if k.startswith("COUNTER_")} == {
        "COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": STAGES[stage],
        **({"COUNTER_EVENTS": "*"} if stage == "dev" else {})}


def test_a_crash_inside_zappa_shows_no_traceback(function):
    """With debug false, Zappa's own 500 says where to look (zappa tail), not what broke."""
    reply = function.invoke({"httpMethod": "GET", "headers": {"Host": API_HOST}, "requestContext": {}})
    assert reply["statusCode"] == 500
    assert "zappa tail" in reply["body"] and "traceback" not in reply["body"].lower()
    assert "'path'" in function.logs  # the cause (a KeyError) goes to CloudWatch instead


def test_store_down_is_503(packages, tables):
    dead = f"http://127.0.0.1:{free_port()}"
    with LambdaFunction(packages["dev"], AWS_ENDPOINT_URL_DYNAMODB=dead) as down:
        reply = down.invoke(http_api("dev", "GET", "/", {"e": "A"}))
        assert reply["statusCode"] == 503, reply
        assert int(reply["headers"]["Retry-After"]) > 0
        assert body(reply)["status"] == "failure"
        assert down.invoke(http_event("GET", "/healthz"))["statusCode"] == 503


@pytest.mark.parametrize(("setting", "made_at_import"), [("true", True), ("", False)], ids=["shipped", "unset"])
def test_the_app_is_made_at_import(packages, tables, dynalite, setting, made_at_import):
    """INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT (shipped: true) makes the app in Lambda's init phase, before any event."""
    with LambdaFunction(packages["dev"], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint,
                        INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT=setting) as function:
        function.invoke({"raw_command": "import sys; print('MADE', sys.modules['handler'].global_handler is not None)"})
        assert f"MADE {made_at_import}" in function.logs
        assert function.invoke(http_api("dev", "GET", "/healthz"))["statusCode"] == 200


def test_a_bad_setting_stops_the_function_at_init(packages):
    """Lambda reports the init error (API Gateway answers 502) and logs the sentence naming the setting."""
    with LambdaFunction(packages["dev"], COUNTER_EVENTS="PAGEVIEW,bad name") as function:
        assert function.process.wait(timeout=60) != 0  # before any event: the import of handler.py failed
    assert "COUNTER_EVENTS=" in function.logs and "must list event names" in function.logs
