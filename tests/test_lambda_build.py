"""The zip is built for its runtime: Python 3.13 on arm64, compiled libraries for that, bytecode for that."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy import binaries
from deploy.stages import stage_settings
from tests.lambda_package import DEPLOY_VENV, ROOT, RUNTIME_PYTHON, STAGES, LambdaFunction, Package, http_event

AARCH64 = 183  # ELF e_machine
TAG = re.compile(r"\.(?:cpython-313-aarch64-linux-gnu|abi3)\.so$")


@pytest.mark.parametrize("stage", STAGES)
def test_stages_run_python_3_13_on_arm64(stage):
    config = stage_settings(stage)
    assert (config["runtime"], config["architecture"]) == ("python3.13", "arm64")


def test_the_deploy_venv_and_the_function_run_the_runtimes_python(packages, tables, dynalite):
    assert subprocess.run([RUNTIME_PYTHON, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                          text=True, check=True).stdout.strip() == "(3, 13)"
    with LambdaFunction(packages["dev"], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint) as function:
        function.invoke({"raw_command": "import sys; print('VERSION', sys.version_info[:2], sys.flags.no_site)"})
        assert "VERSION (3, 13) 1" in function.logs


@pytest.mark.parametrize("stage", STAGES)
def test_every_shared_object_is_an_aarch64_build_for_python_3_13(packages, stage):
    """ELF machine and ABI tag of each one: MarkupSafe's speedups come from the aarch64 wheel, not the venv."""
    archive = zipfile.ZipFile(packages[stage].zip)
    shared = [name for name in archive.namelist() if binaries.is_shared_object(name)]
    assert "markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so" in shared
    for name in shared:
        data = archive.read(name)
        assert data[:4] == b"\x7fELF" and data[4] == 2, name  # 64-bit ELF
        assert struct.unpack_from("<H", data, 18)[0] == AARCH64, name
        assert TAG.search(name) or Path(name).name.startswith("lib"), name
    assert binaries.problems(packages[stage].zip, "arm64", "3.13") == []


def test_a_foreign_build_is_named():
    """The deploy venv's own MarkupSafe (x86_64 here) is what Zappa would ship without the wheel cache."""
    (own,) = DEPLOY_VENV.glob("lib/python3.13/site-packages/markupsafe/_speedups.*.so")
    data, name = own.read_bytes(), f"markupsafe/{own.name}"
    assert binaries.problem(name, data, "x86_64", "3.13") is None
    assert binaries.problem(name, data, "arm64", "3.13") == f"{name} is built for x86_64, not aarch64"
    assert binaries.problem(name, data, "x86_64", "3.12") == (
        f"{name} is built for cpython-313-x86_64-linux-gnu, not cpython-312-x86_64-linux-gnu")
    assert binaries.problem("x/_speedups.so", data, "x86_64", "3.13") == (
        "x/_speedups.so has no ABI tag: Python 3.13 cannot tell what it is built for")
    not_elf = binaries.problem(name, b"#!/bin/sh\n" + data, "x86_64", "3.13")
    assert not_elf == f"{name} is not a 64-bit ELF shared object"


@pytest.mark.parametrize("stage", STAGES)
def test_every_module_ships_unchecked_bytecode_for_the_runtime(packages, stage):
    magic = subprocess.run([RUNTIME_PYTHON, "-c", "import importlib.util, sys; "
                            "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    archive = zipfile.ZipFile(packages[stage].zip)
    names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}
    compiled = {name for name in names if name.endswith(".pyc")}
    expected = {f"{folder}{'/' if folder else ''}__pycache__/{file[:-3]}.cpython-313.pyc"
                for folder, _, file in (source.rpartition("/") for source in sources)}
    assert compiled == expected and len(compiled) > 100
    for name in compiled:
        header = archive.read(name)[:8]
        # PEP 552: flags 0b01 is hash-based, not checked against the source (which Zappa dates 1980)
        assert header[:4].hex() == magic and struct.unpack("<I", header[4:8])[0] == 0b01, name


def test_the_function_runs_the_bytecode_not_the_sources(packages, tables, dynalite, tmp_path):
    """With a module's source broken in the unzipped package, the function still answers: it read the .pyc."""
    root = tmp_path / "dev"
    shutil.copytree(packages["dev"].root, root)
    for source in ("counter_app/web.py", "counter_app/counting.py", "flask/app.py"):
        (root / source).write_text("raise SystemExit('the source was compiled')\n")
    with LambdaFunction(Package("dev", packages["dev"].zip, root), AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint) as fn:
        assert fn.invoke(http_event("GET", "/counter.js", stage="dev"))["statusCode"] == 200
        assert fn.invoke(http_event("GET", "/", stage="dev", query="e=BYTECODE"))["statusCode"] == 200
    assert "the source was compiled" not in fn.logs


def runtime_python(*args: str, path: str) -> subprocess.CompletedProcess:
    """What the Makefile picks as the runtime's Python with ``args`` and only ``path`` to search."""
    return subprocess.run(["make", "--no-print-directory", "--eval", "which: ; @echo [$(RUNTIME_PYTHON)]", "which",
                           *args], cwd=ROOT, env={"PATH": path, "HOME": os.environ["HOME"]}, capture_output=True,
                          text=True, timeout=60)


def test_make_finds_the_runtimes_python_through_pyenv_or_python():
    pyenv = shutil.which("pyenv")
    found = runtime_python(path=f"{Path(pyenv).parent}:/usr/bin:/bin").stdout.strip()
    assert found.endswith("/bin/python3.13]")
    given = found[1:-1]
    assert runtime_python(f"PYTHON={given}", path="/usr/bin:/bin").stdout.strip() == f"[{given}]"
    assert runtime_python("PYTHON=python3", path="/usr/bin:/bin").stdout.strip() == "[]"  # not 3.13: not taken


def test_make_says_when_the_runtimes_python_is_missing(tmp_path):
    done = subprocess.run(["make", "--no-print-directory", f"DEPLOY_VENV={tmp_path}/venv",
                           f"LAMBDA_PYTHONPATH={tmp_path}/lambda", "deploy-tools"],
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and not (tmp_path / "venv").exists()
    assert ("Deploying needs Python 3.13, the Lambda runtime in zappa_settings.json, and none was found: install it "
            "(pyenv install 3.13) or name it") in done.stderr
