"""``python -m deploy`` and the Makefile's deploy targets as a newcomer meets them: usage text, unknown stages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.lambda_package import ROOT, offline_environ, try_make


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
def test_unknown_stage_names_the_stages(target, stage):
    """A stage zappa_settings.json lacks is one sentence naming those it has, before anything runs."""
    done = try_make(target, f"STAGE={stage}", env=offline_environ())
    assert done.returncode != 0
    assert f"there is no stage '{stage}': zappa_settings.json has dev and prod" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "sentence"), [(("check",), "check needs a stage"),
                                                 (("bill", "dev"), "bill takes no stage")])
def test_stage_missing_or_extra(args, sentence):
    done = deploy_cli(*args)
    assert done.returncode == 2 and sentence in done.stderr
