"""Debian packages the tests and the bench need, installed with apt-get when missing (root, or sudo)."""

from __future__ import annotations

import os
import shutil
import subprocess


def ensure(package: str, program: str) -> str:
    """The path of ``program``, after installing Debian's ``package`` if it is missing."""
    found = shutil.which(program)
    if found is None:
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["update", "-qq"], ["install", "-y", "-qq", package]):
            subprocess.run([*sudo, "apt-get", *step], check=True, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which(program)
    if found is None:
        raise RuntimeError(f"{program} is missing after installing Debian's {package} package")
    return found
