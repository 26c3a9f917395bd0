"""The Makefile as a newcomer meets it: the Python it needs, what it prints, what ``clean`` keeps."""

from __future__ import annotations

import subprocess
import sys

from tests.lambda_package import ROOT, sandbox_environ

# A Python that reports 3.10.12 to the code it runs, as Ubuntu 22.04's would.
PYTHON_310 = f"""#!/bin/sh
if [ "$1" = -c ]; then exec {sys.executable} -c "import sys; sys.version_info = (3, 10, 12, 'final', 0)
$2"; fi
exec {sys.executable} "$@"
"""


def try_make(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    """``make ARGS``; a short timeout, since a make that does not stop early would install and serve."""
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=sandbox_environ(),
                          capture_output=True, text=True, timeout=120)


def fake_python(folder):
    path = folder / "python3.10"
    path.write_text(PYTHON_310)
    path.chmod(0o755)
    return path


def test_make_run_says_which_python_it_needs_before_installing(tmp_path):
    venv = tmp_path / "venv"
    done = try_make("run", f"PYTHON={fake_python(tmp_path)}", f"VENV={venv}")
    assert done.returncode != 0
    assert (f"The counter needs Python 3.11 or newer, and {tmp_path}/python3.10 is Python 3.10.12: install 3.11 or "
            f"newer, then rm -rf {venv} and run make run PYTHON=python3.11 (or newer).") in done.stderr, done.stderr
    assert not venv.exists()


def test_a_venv_made_with_an_older_python_is_refused_before_installing(tmp_path):
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    fake_python(tmp_path).rename(tmp_path / "venv" / "bin" / "python")
    done = try_make("test", f"VENV={tmp_path / 'venv'}")
    assert done.returncode != 0 and "The counter needs Python 3.11 or newer" in done.stderr, done.stderr
    assert "pip" not in done.stdout + done.stderr


def test_the_app_says_which_python_it_needs():
    code = "import sys; sys.version_info = (3, 10, 12, 'final', 0); import counter_app"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=sandbox_environ(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("The counter needs Python 3.11 or newer; this is Python "), done.stderr
