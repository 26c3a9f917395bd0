"""SQLite's part of an import: its progress, counted in each chunk's transaction, and its lease on the file."""

from __future__ import annotations

import sqlite3

from .base import Lease, StoreUnavailable


def import_tables(progress: str, running: str) -> list[str]:
    """The statements that make the tables of imports' progress and leases, named ``progress`` and ``running``."""
    return [
        f"CREATE TABLE IF NOT EXISTS {progress} (sha256 TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID",
        f"CREATE TABLE IF NOT EXISTS {running} (sha256 TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL) "
        "WITHOUT ROWID",
    ]


class SQLiteImports:
    """An import's progress and lease, each call one statement, or part of the caller's transaction."""

    _progress: str  # the quoted table names, set by the store
    _running: str
    keeps_progress = True

    def advance(self, conn: sqlite3.Connection, lease: Lease, rows: int) -> None:
        """Count ``rows`` more of ``lease``'s file as written, inside the transaction that writes them.

        :raises StoreUnavailable: if the run no longer holds the lease (it stalled, another took over), so
            that the transaction is rolled back.
        """
        # ON CONFLICT after a SELECT with a WHERE: SQLite reads it as the upsert, not as a join's ON.
        taken = conn.execute(
            f"INSERT INTO {self._progress} SELECT :name, :rows WHERE EXISTS "
            f"(SELECT 1 FROM {self._running} WHERE sha256 = :name AND holder = :holder) "
            "ON CONFLICT (sha256) DO UPDATE SET rows = rows + excluded.rows RETURNING 1",
            {"name": lease.name, "holder": lease.holder, "rows": rows},
        ).fetchall()
        if not taken:
            raise StoreUnavailable("another run took this import over")

    def forget(self, conn: sqlite3.Connection, name: str) -> None:
        """Delete the progress of file ``name``, inside the transaction that records it imported."""
        conn.execute(f"DELETE FROM {self._progress} WHERE sha256 = ?", (name,))

    def progress(self, name: str) -> int:
        found = self._execute(f"SELECT rows FROM {self._progress} WHERE sha256 = ?", (name,))  # type: ignore
        return found[0][0] if found else 0

    def take_lease(self, lease: Lease, *, now: float, until: float, dead: str | None = None) -> str | None:
        run = self._execute  # type: ignore[attr-defined]
        args = {"name": lease.name, "holder": lease.holder, "until": until, "now": now, "dead": dead}
        if run(f"INSERT INTO {self._running} VALUES (:name, :holder, :until) ON CONFLICT (sha256) DO UPDATE "
               "SET holder = excluded.holder, until = excluded.until WHERE until <= :now OR holder = excluded.holder "
               "OR holder = :dead RETURNING 1", args):
            return None
        found = run(f"SELECT holder FROM {self._running} WHERE sha256 = ?", (lease.name,))
        return found[0][0] if found else ""

    def drop_lease(self, lease: Lease) -> None:
        run = self._execute  # type: ignore[attr-defined]
        run(f"DELETE FROM {self._running} WHERE sha256 = ? AND holder = ?", (lease.name, lease.holder))
