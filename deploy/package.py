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

from . import binaries, bytecode, wheels
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
def staged(stage: str, environment: Mapping[str, str] | None = None) -> Iterator[tuple[Path, Path]]:
    """A private temporary folder: the app's files in ``app/``, and the stage's Zappa settings beside it.

    :param environment: the function's environment, secrets included; written only to the settings file,
        which is outside ``app/`` (so never zipped), readable by this user alone, and deleted afterwards.
    :return: the app folder (Zappa's working folder) and the settings file (``zappa -s``).
    """
    config = stage_settings(stage)
    for own in ("extends", "prebuild_script"):  # resolved here; deploy.direct refuses builds in the project
        config.pop(own, None)
    config["attach_policy"] = str(ROOT / config["attach_policy"])
    if environment is not None:
        config["aws_environment_variables"] = dict(environment)
    with tempfile.TemporaryDirectory(prefix=f"counter-{stage}-") as folder:
        app = Path(folder) / "app"
        for name in app_files():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, app / name)
        settings = Path(folder) / "zappa_settings.json"
        with os.fdopen(os.open(settings, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            json.dump({stage: config}, file)
        yield app, settings


def run(program: str, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> None:
    """Run the deploy venv's ``program ARGS`` in ``cwd``, as if the venv were active; stop if it fails."""
    venv = Path(sys.prefix)
    environ = {**(os.environ if env is None else env), "VIRTUAL_ENV": str(venv)}  # Zappa zips this venv
    done = subprocess.run([str(venv / "bin" / program), *args], cwd=cwd, env=environ)
    if done.returncode:
        raise SystemExit(done.returncode)


def package(stage: str, output: Path) -> Path:
    """Zip the stage's app and libraries into ``output`` for the stage's runtime and architecture, without any secret.

    Zappa builds the zip, taking compiled libraries from the wheel cache (:mod:`deploy.wheels`); then every
    shared object is checked (:mod:`deploy.binaries`) and bytecode for the runtime is added (:mod:`deploy.bytecode`).
    """
    config, python = stage_settings(stage), wheels.runtime_version(stage)
    if "%d.%d" % sys.version_info[:2] != python:
        raise SystemExit(f"The {stage} stage runs {config['runtime']} but the deploy venv is Python "
                         f"{sys.version.split()[0]}: rm -rf {Path(sys.prefix).name} and run make again.")
    output.parent.mkdir(parents=True, exist_ok=True)
    with staged(stage) as (app, settings):
        # Zappa's wheel cache is "cached_wheels" in the temporary folder: this one's is the deploy venv's.
        (app.parent / "cached_wheels").symlink_to(wheels.CACHE, target_is_directory=True)
        run("zappa", "package", stage, "-s", str(settings), "-o", str(output.resolve()), cwd=app,
            env={**os.environ, "TMPDIR": str(app.parent)})
    foreign = binaries.problems(output, config["architecture"], python)
    if foreign:
        output.unlink()
        raise SystemExit("\n".join([f"Not packaging {stage}: Lambda ({config['architecture']}, {config['runtime']}) "
                                     "could not load", *foreign]))
    bytecode.add(output)
    return output
