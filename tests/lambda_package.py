"""Build a stage's Zappa package and run its handler in a Python that has only boto3, as Lambda does.

Reusable outside pytest (bench/ measures cold starts with it)::

    package = build("dev", Path("/tmp/pkg"))
    with LambdaFunction(package, AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:8000") as function:
        reply = function.invoke(rest_event("dev", "GET", "/", query={"e": "PAGEVIEW"}))
    seconds, reply = cold_start(package, rest_event("dev", "GET", "/healthz"))
    with Snapshot(package, AWS_ENDPOINT_URL_DYNAMODB=...) as snapshot, snapshot.restore() as restored:
        reply = restored.invoke(http_event("GET", "/", stage="dev", query="e=PAGEVIEW"))
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.stages import stage_settings
from tests.dynalite import free_port

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PATH = ROOT / ".venv-lambda"
DEPLOY_VENV = ROOT / ".venv-deploy"
# The runtime's Python: the deploy venv is made with it (the Makefile finds it), and -S keeps its libraries out.
RUNTIME_PYTHON = DEPLOY_VENV / "bin" / "python"
BOOTSTRAP = Path(__file__).resolve().parent / "lambda_bootstrap.py"
API_HOST = "abc123defg.execute-api.eu-west-1.amazonaws.com"
# A person's browser: crawlerdetect (rightly) refuses to count curl.
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
URL_HOST = "abc123defg.lambda-url.eu-west-1.on.aws"
STAGES = {"dev": "TEST", "prod": "LIVE"}  # each stage and its table prefix
ZAPPA_HANDLER = "handler.lambda_handler"  # Zappa's own entry point, when the settings name none


def sandbox_environ(**extra: str) -> dict[str, str]:
    """This process's environment without AWS or COUNTER settings, with fake credentials: nothing reaches AWS."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COUNTER_")) and k != "VIRTUAL_ENV"}
    return {**keep, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1", **extra}


def offline_environ(**extra: str) -> dict[str, str]:
    """:func:`sandbox_environ` with the internet cut off but 127.0.0.1 reachable, as on a machine without network."""
    dead = f"http://127.0.0.1:{free_port()}"
    return sandbox_environ(HTTPS_PROXY=dead, HTTP_PROXY=dead, NO_PROXY="127.0.0.1,localhost", **extra)


def make(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    """Run ``make ARGS`` in the project (or a copy); its output, or an AssertionError that shows it."""
    done = try_make(*args, env=env, cwd=cwd)
    assert done.returncode == 0, f"make {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def try_make(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``make ARGS`` in ``cwd`` with the project's deploy venv, whatever it returns."""
    command = ["make", "--no-print-directory", f"DEPLOY_VENV={DEPLOY_VENV}", *args]
    return subprocess.run(command, cwd=cwd, env=env or sandbox_environ(), capture_output=True, text=True, timeout=600)


def copy_project(dest: Path) -> Path:
    """The project's own files in ``dest``, as a user's checkout holds them: no venvs, tools or build products."""
    # copy2 keeps modification times, so make sees the deploy venv as newer than the requirements.
    shutil.copytree(ROOT, dest, copy_function=shutil.copy2, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venv-*", ".tools", "dist", "build", "instance", "__pycache__", ".pytest_cache",
        ".hypothesis", "results"))
    return dest


def install_tools() -> None:
    """Build the deploy venv and the boto3-only runtime, from the package index, before anything goes offline."""
    make("deploy-tools")


@dataclass(frozen=True)
class Package:
    """A built package: the zip Zappa made and the folder it unzips to (Lambda's ``/var/task``)."""

    stage: str
    zip: Path
    root: Path


def build(stage: str, dest: Path) -> Package:
    """``make package STAGE=stage`` offline (Zappa's manylinux wheel lookup fails), then unzip into ``dest/stage``."""
    install_tools()
    make("package", f"STAGE={stage}", env=offline_environ())
    return unpack(stage, ROOT / "dist" / f"counter-{stage}.zip", dest)


def unpack(stage: str, archive: Path, dest: Path) -> Package:
    """Unzip a Zappa package into ``dest/stage``, as Lambda unzips it into ``/var/task``."""
    root = dest / stage
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root)
    return Package(stage, archive, root)


def lambda_environ(package: Package, **extra: str | None) -> dict[str, str]:
    """The environment Lambda gives the stage's function: its own variables plus the stage's settings, then
    ``extra`` (``None`` leaves a variable out)."""
    config = stage_settings(package.stage)
    name = f"{config['project_name']}-{package.stage}"
    region = config["aws_region"]
    environ = {
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda
        "_HANDLER": config.get("lambda_handler", ZAPPA_HANDLER),
        "LAMBDA_TASK_ROOT": str(package.root),
        "LAMBDA_RUNTIME_DIR": str(RUNTIME_PATH),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config['runtime']}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["memory_size"]),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/11/27/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        **config.get("aws_environment_variables", {}),
        **extra,
    }
    return {name: value for name, value in environ.items() if value is not None}


class _Invoker:
    """Sends events to a function environment over a pair of text streams and reads its replies."""

    _events: Any
    _replies: Any

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Send one event; the handler's reply, as API Gateway would receive it."""
        self._events.write(json.dumps(event) + "\n")
        self._events.flush()
        line = self._replies.readline()
        assert line, f"the function died:\n{self.logs}"
        return json.loads(line)

    @property
    def logs(self) -> str:
        raise NotImplementedError


class LambdaFunction(_Invoker):
    """One Lambda execution environment: a fresh Python of the runtime's version holding the package's handler.

    :param package: what :func:`build` returned.
    :param wrapper: a command the function's Python runs under, such as one that joins a cgroup first.
    :param extra: environment variables to add or override, such as ``AWS_ENDPOINT_URL_DYNAMODB``.
    """

    def __init__(self, package: Package, *, wrapper: Sequence[str] = (), **extra: str | None) -> None:
        self.wrapper = list(wrapper)
        self.environ = lambda_environ(package, **extra)
        self.timeout = float(stage_settings(package.stage)["timeout_seconds"])
        self.package = package
        self.process: subprocess.Popen | None = None
        self._log = package.root.parent / f"{package.stage}-{uuid.uuid4().hex}.log"

    def start(self) -> LambdaFunction:
        self._stderr = self._log.open("w")
        # -I ignores PYTHONDONTWRITEBYTECODE: -B keeps caches out, as Lambda's read-only /var/task does.
        self.process = subprocess.Popen(
            [*self.wrapper, str(RUNTIME_PYTHON), "-I", "-S", "-B", str(BOOTSTRAP), str(self.package.root),
             str(RUNTIME_PATH), str(self.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=self.environ, cwd=self.package.root, text=True,
        )
        self._events, self._replies = self.process.stdin, self.process.stdout
        return self

    @property
    def logs(self) -> str:
        """Everything the function printed, as CloudWatch would show it."""
        return self._log.read_text()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> LambdaFunction:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Snapshot(LambdaFunction):
    """A SnapStart function: initialised, its before-snapshot hooks run, then held as the snapshot to restore from.

    Lambda leaves ``AWS_LAMBDA_LOG_GROUP_NAME`` and ``AWS_LAMBDA_LOG_STREAM_NAME`` out of a SnapStart function's
    environment and says ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``.
    """

    def __init__(self, package: Package, *, wrapper: Sequence[str] = (), **extra: str | None) -> None:
        super().__init__(package, wrapper=wrapper, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", **extra)
        for name in ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"):
            self.environ.pop(name)
        self._fifos = tempfile.TemporaryDirectory(prefix="snapstart-")

    def start(self) -> Snapshot:
        super().start()
        try:
            assert json.loads(self._replies.readline() or "null") == "snapshot", f"no snapshot:\n{self.logs}"
        except BaseException:
            self.stop()  # __exit__ never runs for a start that failed
            raise
        return self

    def restore(self) -> Restored:
        """A new execution environment restored from the snapshot; its after-restore hooks ran by its first reply."""
        assert self.process and self.process.stdin
        folder = Path(self._fifos.name) / uuid.uuid4().hex
        paths = [folder.with_suffix(".events"), folder.with_suffix(".replies")]
        for path in paths:
            os.mkfifo(path)
        self.process.stdin.write(json.dumps({"restore": [str(path) for path in paths]}) + "\n")
        self.process.stdin.flush()
        restored = Restored(self, paths[0].open("w"), paths[1].open())
        assert "restored" in json.loads(self._replies.readline()), self.logs
        return restored

    def stop(self) -> None:
        super().stop()
        self._fifos.cleanup()


class Restored(_Invoker):
    """One execution environment restored from a :class:`Snapshot`; it ends when its events stream closes."""

    def __init__(self, snapshot: Snapshot, events: Any, replies: Any) -> None:
        self.snapshot, self._events, self._replies = snapshot, events, replies

    @property
    def logs(self) -> str:
        return self.snapshot.logs

    def stop(self) -> None:
        self._events.close()
        self._replies.close()

    def __enter__(self) -> Restored:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_event() -> str:
    """A fresh event name: tests that share a table never see each other's counts."""
    return f"E{uuid.uuid4().hex[:12].upper()}"


def cold_start(package: Package, event: dict[str, Any], *, wrapper: Sequence[str] = (),
               **extra: str) -> tuple[float, dict[str, Any]]:
    """Seconds from starting a fresh function process to its first reply, and that reply."""
    started = time.perf_counter()
    with LambdaFunction(package, wrapper=wrapper, **extra) as function:
        reply = function.invoke(event)
        return time.perf_counter() - started, reply


def restored_start(snapshot: Snapshot, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Seconds from restoring an environment from ``snapshot`` to its first reply, and that reply."""
    started = time.perf_counter()
    with snapshot.restore() as restored:
        reply = restored.invoke(event)
        return time.perf_counter() - started, reply


def _body(body: str | bytes | None) -> tuple[str | None, bool]:
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True
    return body, False


def rest_event(stage: str, method: str, path: str, *, query: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, body: str | bytes | None = None) -> dict[str, Any]:
    """An API Gateway REST API (payload 1.0) proxy event, as ``https://API_HOST/{stage}{path}`` sends it."""
    headers = {"Host": API_HOST, "User-Agent": BROWSER_AGENT, "Accept": "*/*", "X-Forwarded-For": "203.0.113.7",
               "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https", **(headers or {})}
    text, encoded = _body(body)
    resource = "/" if path == "/" else "/{proxy+}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3", "resourcePath": resource, "httpMethod": method,
            "extendedRequestId": "Ab1Cd2Ef3Gh=", "requestTime": "27/Nov/2026:12:00:00 +0000",
            "path": f"/{stage}{path}", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": stage,
            "domainPrefix": API_HOST.split(".")[0], "requestTimeEpoch": 1795780800000,
            "requestId": str(uuid.uuid4()), "domainName": API_HOST, "apiId": API_HOST.split(".")[0],
            "identity": {"sourceIp": "203.0.113.7", "userAgent": headers["User-Agent"], "accountId": None,
                         "caller": None, "user": None, "userArn": None, "cognitoIdentityId": None},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def http_event(method: str, path: str, *, stage: str = "$default", query: str = "",
               headers: dict[str, str] | None = None, body: str | bytes | None = None) -> dict[str, Any]:
    """An HTTP API or Function URL (payload 2.0) event; a named ``stage`` prefixes ``rawPath`` as HTTP APIs do."""
    host = URL_HOST if stage == "$default" else API_HOST
    headers = {"host": host, "user-agent": BROWSER_AGENT, "accept": "*/*", "x-forwarded-for": "203.0.113.7",
               "x-forwarded-port": "443", "x-forwarded-proto": "https",
               **{name.lower(): value for name, value in (headers or {}).items()}}
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    text, encoded = _body(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": host.split(".")[0], "domainName": host,
            "domainPrefix": host.split(".")[0], "requestId": str(uuid.uuid4()), "routeKey": "$default",
            "stage": stage, "time": "27/Nov/2026:12:00:00 +0000", "timeEpoch": 1795780800000,
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": headers["user-agent"]},
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&"))
    if text is not None:
        event["body"] = text
    return event
