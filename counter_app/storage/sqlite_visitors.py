"""SQLite's visitors: the hashes seen per day and event, the figures they add up to, and the days' salts."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from .base import Counts, StoreUnavailable, Visitor


class VisitorsSQL:
    """The statements of the three tables visitors need, in the store's file.

    :param quoted: quotes a table name for SQL.
    :param batch: hashes deleted a statement when a day's salt goes.
    :param wait: seconds a deletion waits for the lock.
    """

    def __init__(self, seen: str, visitors: str, salts: str, quoted: Callable[[str], str], batch: int,
                 wait: float) -> None:
        seen, visitors, salts = quoted(seen), quoted(visitors), quoted(salts)
        self.wait = wait
        self.see = f"INSERT INTO {seen} VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1"
        self.visit = (f"INSERT INTO {visitors} VALUES (?, ?, 1) "
                      "ON CONFLICT (day, event) DO UPDATE SET visitors = visitors + 1")
        self.select = f"SELECT day, event, visitors FROM {visitors} WHERE day BETWEEN ? AND ?"
        self.set = (f"INSERT INTO {visitors} VALUES (?, ?, ?) "
                    "ON CONFLICT (day, event) DO UPDATE SET visitors = excluded.visitors")
        # A row comes back for a new salt, or the day's own while it has not expired.
        self.salt = (f"INSERT INTO {salts} VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET day = day "
                     "WHERE expires > ? RETURNING salt")
        self.stale = f"SELECT day FROM {salts} WHERE expires <= ?"
        self.forget = (f"DELETE FROM {seen} WHERE (day, event, hash) IN "
                       f"(SELECT day, event, hash FROM {seen} WHERE day = ? LIMIT {batch}) RETURNING 1")
        self.batch = batch
        self.unsalt = f"DELETE FROM {salts} WHERE day = ?"
        self.schema = [
            f"CREATE TABLE IF NOT EXISTS {seen} (day INTEGER NOT NULL, event TEXT NOT NULL, hash TEXT NOT NULL, "
            "PRIMARY KEY (day, event, hash)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {visitors} (day INTEGER NOT NULL, event TEXT NOT NULL, "
            "visitors INTEGER NOT NULL, PRIMARY KEY (day, event)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {salts} (day INTEGER PRIMARY KEY, salt BLOB NOT NULL, "
            "expires INTEGER NOT NULL)",
        ]


class SQLiteVisitors:
    """See visitors inside a count's transaction, keep the days' salts, read the days' visitors."""

    _v: VisitorsSQL
    _execute: Callable[..., list[tuple]]
    _within: Callable[[str, Sequence[int]], Counts]

    def _see(self, conn: sqlite3.Connection, day: int, event: str, visitor: Visitor | None) -> None:
        """Add ``visitor`` to the day's visitors of ``event`` unless seen already; inside the caller's transaction."""
        if visitor is not None and conn.execute(self._v.see, (day, event, visitor.hash)).fetchall():
            conn.execute(self._v.visit, (day, event)).fetchall()

    def _forget(self, now: int) -> None:
        """Delete the salts expired at ``now``, each after the hashes seen that day, a batch a statement."""
        for (day,) in self._execute(self._v.stale, (now,), self._v.wait):
            while len(self._execute(self._v.forget, (day,), self._v.wait)) == self._v.batch:
                pass
            self._execute(self._v.unsalt, (day,), self._v.wait)

    def forget_salts(self, day: int, *, now: int) -> None:
        self._forget(now)

    def salt(self, day: int, *, now: int, expires: int) -> bytes:
        try:
            self._forget(now)
        except StoreUnavailable:
            pass  # put off to the next purge: an expired salt is never handed out
        found: list[Any] = self._execute(self._v.salt, (day, secrets.token_bytes(32), expires, now))
        if not found:
            raise StoreUnavailable(f"the salt of day {day} has expired", transient=False)
        return bytes(found[0][0])

    def visitors(self, days: Sequence[int]) -> Counts:
        return self._within(self._v.select, days)
