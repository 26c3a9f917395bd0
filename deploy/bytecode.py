"""Bytecode compiled for the runtime's Python, added to a zip after ``zappa package``.

Lambda's ``/var/task`` is read-only, so a function without ``__pycache__`` compiles every module it imports
on every cold start. Zappa zips sources only, each dated 1980, which timestamp-checked ``.pyc`` files would
never match; unchecked-hash ones (PEP 552) are used as they are. The interpreter that runs this must be the
runtime's version: a ``.pyc`` is only read by the Python that wrote its magic number.
"""

from __future__ import annotations

import compileall
import py_compile
import tempfile
import zipfile
from pathlib import Path


def add(archive: Path) -> int:
    """Compile every ``.py`` in the zip ``archive`` and append the ``__pycache__`` files; how many were added."""
    with tempfile.TemporaryDirectory(prefix="counter-bytecode-") as folder:
        root = Path(folder)
        with zipfile.ZipFile(archive) as zipped:
            template = zipped.infolist()[0]
            zipped.extractall(root, [name for name in zipped.namelist() if name.endswith(".py")])
        # A file this Python cannot compile (none ship today) would fail on import as well: it is left as source.
        compileall.compile_dir(root, quiet=2, workers=1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled = sorted(root.rglob("__pycache__/*.pyc"))
        with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zipped:
            for path in compiled:
                entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), template.date_time)
                entry.create_system, entry.external_attr = template.create_system, template.external_attr
                zipped.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return len(compiled)
