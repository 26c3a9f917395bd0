"""Zappa's output without the notices every staged build prints, which say nothing is wrong, and one line for them.

- "No manylinux wheel found" for each pure-Python library (Zappa asks PyPI for every one): they ship as installed,
  and the compiled ones come from the wheel cache (deploy/wheels.py) and are checked in the zip (deploy/binaries.py);
- "namespace collision between wsgi.app and wsgi.": Zappa warns of any app module named like one of its own, but
  its handler imports ``zappa.wsgi``, never a top-level ``wsgi``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

EXPECTED = re.compile(r": No manylinux wheel found for this package$|namespace collision between wsgi\.app and wsgi\.")


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> int:
    """Run ``argv``, passing its stdout and stderr through but for :data:`EXPECTED`; its return code."""
    left_out: list[str] = []
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          bufsize=1) as process:
        copies = [threading.Thread(target=_copy, args=(source, sink, left_out))
                  for source, sink in ((process.stdout, sys.stdout), (process.stderr, sys.stderr))]
        for copy in copies:
            copy.start()
        for copy in copies:
            copy.join()
    if left_out:
        print(f"({len(left_out)} of Zappa's notices left out as expected: no manylinux wheel for a pure-Python "
              "library, and its wsgi name check; see deploy/quiet.py.)", file=sys.stderr)
    return process.returncode


def _copy(source: IO[str], sink: IO[str], left_out: list[str]) -> None:
    for line in source:
        if EXPECTED.search(line.rstrip("\n")):
            left_out.append(line)
        else:
            sink.write(line)
            sink.flush()
