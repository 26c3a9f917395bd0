"""SQLite store: the embedded default, exact across threads and processes."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .base import ConfigurationError, Counts, Storage, StoreUnavailable, TooManyEvents


class SQLiteStorage(Storage):
    """One table of ``(day, event, count)`` rows in a WAL-mode SQLite file.

    :param url: ``sqlite:///relative/path`` or ``sqlite:////absolute/path``.
    :param table: the table name, ``<prefix>_counters``.
    :param timeout: seconds to wait for a lock held by another writer.
    """

    def __init__(self, url: str, *, table: str = "TEST_counters", timeout: float = 2.0) -> None:
        path = url.removeprefix("sqlite:///")
        if not path or path == url:
            raise ConfigurationError(f"COUNTER_STORE={url!r} needs a file path: sqlite:///path/to/file")
        self.path = path
        self.table = table
        self.timeout = timeout
        self._local = threading.local()
        quoted = '"' + table.replace('"', '""') + '"'
        # One statement, so the cap check and the write share one write lock:
        # an INSERT takes it before it reads, and no other writer gets between.
        self._incr_sql = (
            f"INSERT INTO {quoted} (day, event, count) SELECT :day, :event, :amount WHERE :max IS NULL "
            f"OR EXISTS (SELECT 1 FROM {quoted} WHERE day = :day AND event = :event) "
            f"OR (SELECT count(*) FROM {quoted} WHERE day = :day) < :max "
            "ON CONFLICT (day, event) DO UPDATE SET count = count + excluded.count RETURNING count"
        )
        self._get_sql = f"SELECT day, event, count FROM {quoted} WHERE day BETWEEN ? AND ?"
        self._schema_sql = (
            f"CREATE TABLE IF NOT EXISTS {quoted} (day INTEGER NOT NULL, event TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (day, event)) WITHOUT ROWID"
        )

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite3 connections must not
        # cross threads, and one inherited through fork() must not be reused.
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            # WAL lets readers and one writer work at once; synchronous=NORMAL
            # in WAL mode keeps every committed write through a process crash.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(self._schema_sql)
            local.conn, local.pid = conn, os.getpid()
        return local.conn

    @contextmanager
    def _errors(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._connection()
        except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
            raise StoreUnavailable(f"SQLite: {exc}") from exc

    def incr(self, day: int, event: str, amount: int = 1, *, max_events: int | None = None) -> int:
        with self._errors() as conn:
            # fetchall() steps the statement to completion, which commits it.
            rows = conn.execute(
                self._incr_sql, {"day": day, "event": event, "amount": amount, "max": max_events}
            ).fetchall()
        if not rows:
            raise TooManyEvents(f"day {day} already has {max_events} events")
        return rows[0][0]

    def get(self, days: Sequence[int]) -> Counts:
        if not days:
            return {}
        wanted = set(days)
        counts: Counts = {}
        with self._errors() as conn:
            rows = conn.execute(self._get_sql, (min(wanted), max(wanted))).fetchall()
        for day, event, count in rows:
            if day in wanted:
                counts.setdefault(day, {})[event] = count
        return counts

    def check(self) -> None:
        with self._errors() as conn:
            conn.execute("SELECT 1").fetchall()

    def create(self) -> str:
        with self._errors():
            pass
        return f"SQLite table {self.table} is ready in {os.path.abspath(self.path)}."
