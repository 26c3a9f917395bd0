"""The CLI fails in one line that says what to do, never with a traceback: bad settings, no region, no access."""

import os
import subprocess
import sys

import pytest

from counter_app import SettingsError, create_app
from tests.conftest import NOW, stubbed
from tests.lambda_package import ROOT, sandbox_environ

CSV = "day,event,count\n20261101,A,1\n"


def flask(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``flask --app wsgi ARGS`` as an owner types it, in a clean environment plus ``env``."""
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", *args],
                          cwd=ROOT, env=sandbox_environ(**env), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", [["export"], ["import", "missing.csv"], ["create-table"]])
def test_a_bad_store_setting_is_one_line(command):
    done = flask(*command, COUNTER_STORE="redis://localhost")
    assert done.returncode == 1
    assert done.stderr == ("Error: COUNTER_STORE='redis://localhost' is not a known store; "
                           "use one of: sqlite://, dynamodb://\n")


def test_a_bad_setting_is_still_a_value_error_for_the_app():
    with pytest.raises(ValueError, match="COUNTER_STORE='redis://x'") as caught:
        create_app({"STORE": "redis://x"})
    assert isinstance(caught.value, SettingsError)


@pytest.fixture
def regionless(monkeypatch, tmp_path):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))  # no region from a profile either
    return create_app({"STORE": "dynamodb://", "CLOCK": lambda: NOW})


@pytest.mark.parametrize("command", [["export"], ["import", "{path}"], ["create-table"]])
def test_a_missing_region_says_to_set_it(regionless, tmp_path, command):
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    result = regionless.test_cli_runner().invoke(args=[part.format(path=path) for part in command])
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert "no AWS region is set: set AWS_DEFAULT_REGION" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "in.csv.progress").exists()  # nothing was written, nothing to resume


@pytest.mark.parametrize("command,operation,action", [
    (["export"], "scan", "dynamodb:Scan"),
    (["import", "{path}"], "update_item", "dynamodb:UpdateItem"),  # its first call takes the lease
])
def test_access_denied_names_the_action(moto_app, tmp_path, command, operation, action):
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    store, stub = stubbed(moto_app)
    stub.add_client_error(operation, service_error_code="AccessDeniedException", http_status_code=400,
                          service_message="User: arn:aws:iam::123456789012:user/x is not authorized")
    with stub:
        result = moto_app.test_cli_runner().invoke(args=[part.format(path=path) for part in command])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (f"DynamoDB AccessDeniedException: these credentials may not call {action} on table TEST_counters"
            in result.stderr)


def test_a_missing_table_says_how_to_make_it(moto_app):
    result = moto_app.test_cli_runner().invoke(args=["export"])
    assert result.exit_code == 1
    assert "table TEST_counters does not exist (flask create-table makes it)" in result.stderr
