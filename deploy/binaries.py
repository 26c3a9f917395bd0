"""What a zip's compiled files were built for: every shared object must run on the stage's Lambda."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

MACHINES = {62: "x86_64", 183: "aarch64"}  # ELF e_machine
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda's name: the ELF and wheel name
_TAG = re.compile(r"\.(cpython-\d+-[a-z0-9_]+-linux-gnu|abi3)\.so$")


def is_shared_object(name: str) -> bool:
    """``x.so``, ``x.cpython-313-aarch64-linux-gnu.so`` and versioned libraries such as ``libz-a1b2.so.1.3``."""
    return name.endswith(".so") or ".so." in Path(name).name


def problem(name: str, data: bytes, architecture: str, python: str) -> str | None:
    """Why the file ``name`` holding ``data`` cannot load on Lambda's ``architecture`` with ``python``, or None.

    :param architecture: ``arm64`` or ``x86_64``, as zappa_settings.json says it.
    :param python: the runtime's version, such as ``3.13``.
    """
    machine = ARCHITECTURES[architecture]
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return f"{name} is not a 64-bit ELF shared object"
    found = MACHINES.get(struct.unpack_from("<H", data, 18)[0], "another machine")
    if found != machine:
        return f"{name} is built for {found}, not {machine}"
    tag = _TAG.search(name)
    wanted = f"cpython-{python.replace('.', '')}-{machine}-linux-gnu"
    if name.endswith(".so") and tag is None and not name.split("/")[-1].startswith("lib"):
        return f"{name} has no ABI tag: Python {python} cannot tell what it is built for"
    if tag and tag.group(1) not in (wanted, "abi3"):
        return f"{name} is built for {tag.group(1)}, not {wanted}"
    return None


def problems(archive: Path, architecture: str, python: str) -> list[str]:
    """Every shared object in the zip ``archive`` that Lambda's ``architecture`` and ``python`` cannot load."""
    with zipfile.ZipFile(archive) as zipped:
        found = (problem(name, zipped.read(name), architecture, python)
                 for name in zipped.namelist() if is_shared_object(name))
        return [text for text in found if text]
