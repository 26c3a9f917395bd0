"""Lambda builds of the deploy venv's compiled libraries, where Zappa looks for them before it asks PyPI.

Zappa swaps a library's files for a manylinux wheel of the runtime's Python and architecture, found in
``cached_wheels`` under the temporary folder or through PyPI's JSON API. That API is often out of reach
(here it is), and Zappa then ships the venv's own builds, for this machine. ``pip download`` reaches wheels
through whatever index pip is set up with, so the cache is filled with it when the deploy venv is made.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .stages import stage_settings

PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
CACHE = Path(sys.prefix) / "cached_wheels"  # in the deploy venv, rebuilt with it


def runtime_version(stage: str = "dev") -> str:
    """The stage's Lambda runtime as a Python version: ``python3.13`` -> ``3.13``."""
    return stage_settings(stage)["runtime"].removeprefix("python")


def compiled() -> dict[str, str]:
    """The distributions of this (the deploy) venv that hold compiled extensions: ``{name: version}``."""
    site = {Path(path) for path in sys.path if path.endswith("site-packages")}
    found = {}
    for dist in metadata.distributions():
        if Path(dist.locate_file("")) in site and any(".so" in Path(f).suffixes for f in dist.files or ()):
            found[dist.metadata["Name"]] = dist.version
    return found


def fill(stage: str = "dev") -> list[Path]:
    """Download the stage's architecture's wheel of every compiled distribution into :data:`CACHE`."""
    config = stage_settings(stage)
    platform, python = PLATFORMS[config["architecture"]], runtime_version(stage)
    wanted = [f"{name}=={version}" for name, version in sorted(compiled().items())]
    if wanted:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--platform", platform, "--python-version", python, "--implementation", "cp", "--dest", str(CACHE),
             *wanted])
        if done.returncode:
            raise SystemExit(f"No {platform} wheel for Python {python} of one of {', '.join(wanted)}: the Lambda "
                             "zip may hold only pure Python or builds for its runtime.")
    return sorted(CACHE.glob("*.whl"))
