"""Which rows of a file an additive import has written: kept in ``<file>.progress`` so that a rerun resumes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click

from .reader import Row
from .storage.base import Write


class Journal:
    """The positions of a file's rows (from 1) that the store has confirmed, for one file and one store (``key``).

    The file holds ``through N`` (every row up to position N is written) and the positions past N confirmed
    out of order, which are never more than the store writes at once: memory stays flat however long the
    file. A run that ends, however it ends, adds ``stopped``; a journal whose rows follow its last ``stopped``
    was left by a run killed outright. With ``path=None`` (``--replace``, which can simply run again, or a
    store that keeps the progress itself and gives ``through``) no file is read or written.

    :raises OSError: if the file cannot be written: before any row is.
    """

    def __init__(self, path: Path | None, key: str, *, through: int = 0) -> None:
        self.path = path
        self.key = key
        self.through = through
        self.done: set[int] = set()
        self.killed = False  # the run that left the file was killed while writing
        self.confirmed = 0  # rows this run wrote
        self._pending: OrderedDict[int, int] = OrderedDict()  # index in the rows handed out -> position
        self._last = through
        self._handle: TextIO | None = None
        if path is None:
            return
        self._fresh = not path.exists()
        if not self._fresh:
            self._load()
        self._handle = path.open("a", encoding="ascii")
        if self._handle.tell() == 0:
            self._handle.write(f"key {key}\n")
            self._handle.flush()

    def _load(self) -> None:
        assert self.path is not None
        with self.path.open(encoding="ascii", errors="replace") as handle:
            if handle.readline().rstrip("\n") != f"key {self.key}":
                raise click.ClickException(
                    f"{self.path} belongs to another file or store; delete it if that import is finished."
                )
            for text in handle:
                if not text.endswith("\n"):
                    # Cut short by a crash: "4005 40" would mark row 40 written. Its rows are simply written again.
                    self.killed = True
                    continue
                try:
                    if text == "stopped\n":
                        self.killed = False
                    elif text.startswith("through "):
                        self.through, self.killed = max(self.through, int(text[8:])), True
                        self.done = {pos for pos in self.done if pos > self.through}
                    else:
                        self.done.update(pos for pos in map(int, text.split()) if pos > self.through)
                except ValueError:
                    continue
        self._last = self.through

    @property
    def skipped(self) -> int:
        """How many rows earlier runs wrote."""
        return self.through + len(self.done)

    def rows(self, rows: Iterable[Row]) -> Iterator[Write]:
        """``(day, event, count, visitors)`` of the rows not yet written, remembering the position of each."""
        for index, row in enumerate(row for row in rows if row.pos not in self.done):
            self._pending[index] = self._last = row.pos
            yield row.day, row.event, row.count, row.visitors

    def confirm(self, indices: list[int]) -> None:
        """Note that the rows at ``indices`` (in the order :meth:`rows` gave them) are written."""
        positions = [self._pending.pop(index) for index in indices]
        self.confirmed += len(positions)
        if self._handle is None:
            return
        through = next(iter(self._pending.values())) - 1 if self._pending else self._last
        beyond = " ".join(str(pos) for pos in positions if pos > through)
        self._handle.write(f"through {through}\n" + (f"{beyond}\n" if beyond else ""))
        self._handle.flush()

    def close(self) -> None:
        """Close the file, saying the run stopped; the journal stays for a rerun if it has anything to say."""
        if self._handle:
            self._handle.write("stopped\n")
            self._handle.close()
            self._handle = None
            if self._fresh and not self.confirmed and self.path:
                self.path.unlink(missing_ok=True)

    def finish(self) -> None:
        """The import is complete: close and delete the journal."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
