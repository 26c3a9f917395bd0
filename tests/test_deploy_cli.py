"""``python -m deploy`` and the Makefile's deploy targets as a newcomer meets them: usage text, unknown stages."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from deploy import quiet
from tests.lambda_package import DEPLOY_VENV, ROOT, copy_project, offline_environ, try_make

ZAPPA = DEPLOY_VENV / "bin" / "zappa"


def deploy_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m deploy ARGS`` in the project, offline."""
    return subprocess.run([sys.executable, "-m", "deploy", *args], cwd=ROOT, env=offline_environ(),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [(), ("--help",)], ids=["no-arguments", "help"])
def test_usage_text(args):
    """No arguments, or --help, gives the commands and what each does, never a traceback."""
    done = deploy_cli(*args)
    assert done.returncode == (0 if args else 2)
    assert "usage: python -m deploy" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if args:
        assert "create-table STAGE" in done.stdout and "bill" in done.stdout


@pytest.mark.parametrize("target", ["deploy", "package", "create-table"])
@pytest.mark.parametrize("stage", ["staging", "Prod"])
def test_unknown_stage_names_the_stages(target, stage, tmp_path):
    """A stage zappa_settings.json lacks is one sentence naming those it has, before anything runs or is built."""
    done = try_make(target, f"STAGE={stage}", f"DEPLOY_VENV={tmp_path}/venv", env=offline_environ())
    assert done.returncode != 0 and not (tmp_path / "venv").exists()
    assert f"there is no stage '{stage}': zappa_settings.json has dev and prod" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "sentence"), [(("check",), "check needs a stage"),
                                                 (("bill", "dev"), "bill takes no stage")])
def test_stage_missing_or_extra(args, sentence):
    done = deploy_cli(*args)
    assert done.returncode == 2 and sentence in done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("direct") / "project")


@pytest.mark.parametrize("command", ["deploy", "update", "package"])
def test_zappa_run_directly_refuses_before_any_aws_call(project, command):
    """Zappa's settings callback refuses a build in the project folder; no request reaches the AWS endpoint."""
    with socket.socket() as endpoint:
        endpoint.bind(("127.0.0.1", 0))
        endpoint.listen()
        endpoint.setblocking(False)
        env = offline_environ(AWS_ENDPOINT_URL=f"http://127.0.0.1:{endpoint.getsockname()[1]}",
                              VIRTUAL_ENV=str(ZAPPA.parent.parent))
        done = subprocess.run([str(ZAPPA), command, "dev"], cwd=project, env=env, capture_output=True, text=True,
                              timeout=120)
        with pytest.raises(BlockingIOError):
            endpoint.accept()
    assert done.returncode != 0
    assert f"Use make deploy STAGE=... or make package STAGE=... instead of zappa {command}" in done.stderr
    assert "Traceback" not in done.stderr and not list(project.glob("*.zip"))


def test_zappa_notices_that_are_expected_are_one_line(capfd, tmp_path):
    """make package: Zappa's per-library manylinux notices and its wsgi name check become one line; others pass."""
    script = ("import sys\n"
              "print('Warning! You may have a namespace collision between wsgi.app and wsgi.! "
              "You may want to rename')\n"
              "print('Package created')\n"
              "for name in ('flask', 'jinja2'):\n"
              "    print(f'WARNING: - {name}==1.0: No manylinux wheel found for this package', file=sys.stderr)\n"
              "print('WARNING: something else', file=sys.stderr)\n"
              "sys.exit(3)\n")
    assert quiet.run([sys.executable, "-c", script], cwd=tmp_path, env={}) == 3
    out, err = capfd.readouterr()
    assert out == "Package created\n"
    assert err == ("WARNING: something else\n(3 of Zappa's notices left out as expected: no manylinux wheel for a "
                   "pure-Python library, and its wsgi name check; see deploy/quiet.py.)\n")
