"""What Zappa calls once it has built a zip, before it uploads it: the ``zip`` callback deploy/package.py sets.

Every shared object is checked (:mod:`deploy.binaries`), then bytecode for the runtime is added
(:mod:`deploy.bytecode`), so ``zappa package``, ``deploy`` and ``update`` all ship the same finished zip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import binaries, bytecode


def zip_built(cli: Any) -> None:
    """Refuse a zip whose compiled files Lambda cannot load, else add the runtime's bytecode to it.

    :param cli: Zappa's command object: ``zip_path`` and the stage's ``architecture`` and ``runtime``.
    """
    archive = Path(cli.zip_path)
    foreign = binaries.problems(archive, cli.architecture, cli.runtime.removeprefix("python"))
    if foreign:
        archive.unlink()
        raise SystemExit("\n".join([f"Lambda ({cli.architecture}, {cli.runtime}) could not load:", *foreign]))
    bytecode.add(archive)
