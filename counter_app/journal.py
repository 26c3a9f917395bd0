"""Which lines of a file an additive import has written, kept in ``<file>.progress`` so that a rerun resumes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click

from .reader import Row
from .storage.base import Write


class Journal:
    """The lines of a file whose rows the store has confirmed, for one file and one store (``key``).

    The file holds ``through N`` (every row up to line N is written) and the lines past N confirmed out
    of order, which are never more than the store writes at once: memory stays flat however long the
    file. With ``record=False`` (``--replace``, which can simply run again) nothing is read or written.
    """

    def __init__(self, path: Path, key: str, *, record: bool = True) -> None:
        self.path = path
        self.key = key
        self.record = record
        self.through = 0
        self.done: set[int] = set()
        self._pending: OrderedDict[int, int] = OrderedDict()  # position in the rows handed out -> line
        self._last = 0
        self._handle: TextIO | None = None
        if record and path.exists():
            self._load()

    def _load(self) -> None:
        with self.path.open(encoding="ascii", errors="replace") as handle:
            if handle.readline().rstrip("\n") != f"key {self.key}":
                raise click.ClickException(
                    f"{self.path} belongs to another file or store; delete it if that import is finished."
                )
            for text in handle:
                if not text.endswith("\n"):
                    # Cut short by a crash: "4005 40" would mark line 40 written. Its rows are simply written again.
                    continue
                try:
                    if text.startswith("through "):
                        self.through = max(self.through, int(text[8:]))
                        self.done = {line for line in self.done if line > self.through}
                    else:
                        self.done.update(line for line in map(int, text.split()) if line > self.through)
                except ValueError:
                    continue

    def rows(self, rows: Iterable[Row]) -> Iterator[Write]:
        """``(day, event, count, visitors)`` of the rows not yet written, remembering which line each one came from."""
        for index, row in enumerate(row for row in rows if row.line not in self.done):
            self._pending[index] = self._last = row.line
            yield row.day, row.event, row.count, row.visitors

    def confirm(self, indices: list[int]) -> None:
        """Note that the rows at ``indices`` (positions in :meth:`rows`) are written."""
        lines = [self._pending.pop(index) for index in indices]
        if not self.record:
            return
        through = next(iter(self._pending.values())) - 1 if self._pending else self._last
        if self._handle is None:
            self._handle = self.path.open("a", encoding="ascii")
            if self._handle.tell() == 0:
                self._handle.write(f"key {self.key}\n")
        beyond = " ".join(str(line) for line in lines if line > through)
        self._handle.write(f"through {through}\n" + (f"{beyond}\n" if beyond else ""))
        self._handle.flush()

    def close(self) -> None:
        """Close the file; the journal stays for a rerun."""
        if self._handle:
            self._handle.close()
            self._handle = None

    def finish(self) -> None:
        """The import is complete: close and delete the journal."""
        self.close()
        self.path.unlink(missing_ok=True)
