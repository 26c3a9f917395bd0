"""What ships: the app's own files from an explicit list, staged where Zappa zips them with the deploy venv's libraries.

Zappa zips its working folder. Run in the project, it would take whatever lies there (an export, a
``.env``, a database copy); run in a staged folder that holds only the list below, it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from . import wheels
from .stages import ROOT, stage_settings

SHIPPED = (
    "wsgi.py",
    "counter_app/**/*.py",
    "counter_app/openapi.json",
    "counter_app/templates/**/*.html",
    "counter_app/static/**/*.css",
    "counter_app/static/**/*.js",
    "counter_app/static/**/*.svg",
)


def app_files(root: Path = ROOT) -> list[Path]:
    """The files the app needs, relative to ``root``: what :data:`SHIPPED` matches, without bytecode caches."""
    found = {path.relative_to(root) for pattern in SHIPPED for path in root.glob(pattern) if path.is_file()}
    return sorted(path for path in found if "__pycache__" not in path.parts)


@contextmanager
def staged(
    stage: str, environment: Mapping[str, str] | None = None, events: list[dict] | None = None
) -> Iterator[tuple[Path, Path]]:
    """A private temporary folder: the app's files in ``app/``, and the stage's Zappa settings beside it.

    :param environment: the function's environment, secrets included; written only to the settings file,
        which is outside ``app/`` (so never zipped), readable by this user alone, and deleted afterwards.
    :param events: Zappa ``events`` known only at deploy time (the ids stream's, whose ARN the table gives).
    :return: the app folder (Zappa's working folder) and the settings file (``zappa -s``).
    """
    config = stage_settings(stage)
    for own in ("extends", "prebuild_script"):  # resolved here; deploy.direct refuses builds in the project
        config.pop(own, None)
    config["attach_policy"] = str(ROOT / config["attach_policy"])
    config["callbacks"] = {**config.get("callbacks", {}), "zip": "deploy.callbacks.zip_built"}
    if environment is not None:
        config["aws_environment_variables"] = dict(environment)
    if events:
        config["events"] = [*config.get("events", []), *events]
    with tempfile.TemporaryDirectory(prefix=f"counter-{stage}-") as folder:
        app = Path(folder) / "app"
        for name in app_files():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, app / name)
        # Zappa's wheel cache is "cached_wheels" in the temporary folder (see run): the deploy venv's.
        (Path(folder) / "cached_wheels").symlink_to(wheels.CACHE, target_is_directory=True)
        settings = Path(folder) / "zappa_settings.json"
        with os.fdopen(os.open(settings, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            json.dump({stage: config}, file)
        yield app, settings


def zappa(*args: str, app: Path) -> None:
    """Run ``zappa ARGS`` in the staged ``app`` folder.

    The staged folder becomes the temporary folder, where Zappa finds its wheel cache, and this project is
    importable, for the callback that finishes Zappa's zip (:mod:`deploy.callbacks`).
    """
    run("zappa", *args, cwd=app, env={**os.environ, "TMPDIR": str(app.parent), "PYTHONPATH": str(ROOT)})


def run(program: str, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> None:
    """Run the deploy venv's ``program ARGS`` in ``cwd``, as if the venv were active; stop if it fails."""
    venv = Path(sys.prefix)
    environ = {**(os.environ if env is None else env), "VIRTUAL_ENV": str(venv)}  # Zappa zips this venv
    done = subprocess.run([str(venv / "bin" / program), *args], cwd=cwd, env=environ)
    if done.returncode:
        raise SystemExit(done.returncode)


def runtime_matches(stage: str) -> None:
    """Stop unless this (the deploy venv's) Python is the stage's runtime: Zappa zips this venv's libraries."""
    runtime = wheels.runtime_version(stage)
    if f"{sys.version_info.major}.{sys.version_info.minor}" != runtime:
        raise SystemExit(f"The {stage} stage runs python{runtime} but the deploy venv is Python "
                         f"{sys.version.split()[0]}: rm -rf {Path(sys.prefix).name} and run make again.")


def package(stage: str, output: Path) -> Path:
    """Zip the stage's app and libraries into ``output``, as ``zappa deploy`` would, without any secret."""
    runtime_matches(stage)
    output.parent.mkdir(parents=True, exist_ok=True)
    with staged(stage) as (app, settings):
        zappa("package", stage, "-s", str(settings), "-o", str(output.resolve()), app=app)
    return output
