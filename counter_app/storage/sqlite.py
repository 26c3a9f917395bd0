"""SQLite store: the embedded default, exact across threads and processes."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from .base import (
    FIRST_DAY,
    KNOWN_DAYS,
    LAST_DAY,
    MAX_COUNT,
    ConfigurationError,
    CounterAtLimit,
    Counts,
    Lease,
    Once,
    Storage,
    StoreUnavailable,
    TooManyEvents,
    Visitor,
    Write,
    week_before,
)
from .sqlite_alerts import SQLiteAlerts, alert_tables
from .sqlite_imports import SQLiteImports, import_tables
from .sqlite_visitors import SQLiteVisitors, VisitorsSQL

Result = TypeVar("Result")
CHUNK = 2000  # rows per transaction in write_many
READ_BATCH = 2000  # rows fetched at a time by dump

# SQLite's own busy handler sleeps 1 ms, then longer, before its first retry;
# a write holds the lock for tens of microseconds, so wait in smaller steps.
FIRST_WAIT = 0.00005
LONGEST_WAIT = 0.005
CHECKPOINT_EVERY = 500  # statements per connection between two restarts of the write-ahead log
HEALTH_TIMEOUT = 0.5  # a health check waits this long for the write lock, then reports the store busy
HEALTH_DAY = 1  # not a real day: the health check's row, which no read returns
TRANSIENT = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}  # another writer: a retry can succeed
# Expired ids are deleted at most this often per process, this many a statement: a purge never holds the lock long.
PURGE_SECONDS = 3600.0
PURGE_BATCH = 10_000
PURGE_WAIT = 0.1  # seconds a purge waits for the lock: the increment is in, its reply must not wait long


class SQLiteStorage(SQLiteAlerts, SQLiteImports, SQLiteVisitors, Storage):
    """One table of ``(day, event, count)`` rows in a WAL-mode SQLite file.

    Imports keep their progress (``<table>_progress``) and their leases (``<table>_running``) in the same file.

    :param url: ``sqlite:///relative/path`` or ``sqlite:////absolute/path``.
    :param table: the table name, ``<prefix>_counters``.
    :param ids_table: the table of idempotency keys, ``<prefix>_counter_ids``, in the same file.
    :param salts_table: the days' visitor salts, ``<prefix>_counter_salts``, in the same file.
    :param timeout: seconds to wait for a lock held by another writer.
    """

    def __init__(
        self, url: str, *, table: str = "TEST_counters", ids_table: str = "TEST_counter_ids",
        salts_table: str = "TEST_counter_salts", timeout: float = 2.0,
    ) -> None:
        path = url.removeprefix("sqlite:///")
        if not path or path == url:
            raise ConfigurationError(f"COUNTER_STORE={url!r} needs a file path: sqlite:///relative/path/to/file or "
                                     "sqlite:////absolute/path/to/file")
        self.path = path
        self.table = table
        self.ids_table = ids_table
        self.salts_table = salts_table
        self.timeout = timeout
        self._local = threading.local()
        self._ready_pid: int | None = None
        self._purge_due = 0.0  # time.monotonic() of the next purge of expired ids
        quoted, ids = _quoted(table), _quoted(ids_table)
        # One statement, so the cap check and the write share one write lock:
        # an INSERT takes it before it reads, and no other writer gets between.
        # A name passes the cap if the day has it, if the day has room, or if
        # one of the week before had it (seven lookups by primary key).
        known = ", ".join(f":d{n}" for n in range(KNOWN_DAYS))
        self._incr_sql = (
            f"INSERT INTO {quoted} (day, event, count) SELECT :day, :event, :amount WHERE :max IS NULL "
            f"OR EXISTS (SELECT 1 FROM {quoted} WHERE day = :day AND event = :event) "
            f"OR (SELECT count(*) FROM {quoted} WHERE day = :day) < :max "
            f"OR EXISTS (SELECT 1 FROM {quoted} WHERE event = :event AND day IN ({known})) "
            # SQLite turns an integer that overflows into a float: stop at MAX_COUNT instead.
            "ON CONFLICT (day, event) DO UPDATE SET count = count + excluded.count WHERE count <= :room "
            "RETURNING count"
        )
        self._count_sql = f"SELECT count FROM {quoted} WHERE day = ? AND event = ?"
        # A row comes back when the id is new, or when its record had expired and is taken over.
        self._claim_sql = (
            f"INSERT INTO {ids} (id, expires) VALUES (:id, :expires) "
            "ON CONFLICT (id) DO UPDATE SET expires = excluded.expires WHERE expires <= :now RETURNING 1"
        )
        self._purge_sql = (
            f"DELETE FROM {ids} WHERE id IN (SELECT id FROM {ids} WHERE expires <= ? LIMIT {PURGE_BATCH}) RETURNING 1"
        )
        # The hot path: a name the day already has is one keyed update, no cap to check.
        self._bump_sql = (f"UPDATE {quoted} SET count = count + :amount WHERE day = :day AND event = :event "
                          "AND count <= :room RETURNING count")
        upsert = f"INSERT INTO {quoted} (day, event, count) VALUES (?, ?, ?) ON CONFLICT (day, event) DO UPDATE "
        # imports: not capped; a row that would pass MAX_COUNT is left alone, and write_many sees it
        self._add_sql = upsert + f"SET count = count + excluded.count WHERE count <= {MAX_COUNT} - excluded.count"
        self._set_sql = upsert + "SET count = excluded.count"
        self._get_sql = f"SELECT day, event, count FROM {quoted} WHERE day BETWEEN ? AND ?"
        self._dump_sql = self._get_sql + " ORDER BY day, event"
        imports = _quoted(table + "_imports")
        self._marks, self._seen = _quoted(table + "_marks"), _quoted(table + "_seen")
        self._imported_sql = f"SELECT imported FROM {imports} WHERE sha256 = ?"
        self._record_sql = (
            f"INSERT INTO {imports} VALUES (?, ?) ON CONFLICT (sha256) DO UPDATE SET imported = excluded.imported"
        )
        self._progress, self._running = _quoted(table + "_progress"), _quoted(table + "_running")
        # Visitors: a day's hashes seen per event (not "_seen": alerts' hours), their sums, and the days' salts.
        self._v = VisitorsSQL(f"{table}_visits", f"{table}_visitors", salts_table, _quoted, PURGE_BATCH, PURGE_WAIT)
        self._schema_sql = [
            f"CREATE TABLE IF NOT EXISTS {quoted} (day INTEGER NOT NULL, event TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (day, event)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {ids} (id TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {_quoted(ids_table + '_expires')} ON {ids} (expires)",
            f"CREATE TABLE IF NOT EXISTS {imports} (sha256 TEXT PRIMARY KEY, imported TEXT NOT NULL) WITHOUT ROWID",
            *import_tables(self._progress, self._running),
            *alert_tables(self._marks, self._seen),
            *self._v.schema,
        ]

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite3 connections must not
        # cross threads, and one inherited through fork() must not be reused.
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            # synchronous is per connection: in WAL mode NORMAL keeps every
            # committed write through a process crash.
            self._run(conn, "PRAGMA synchronous=NORMAL")
            # The automatic checkpoint is PASSIVE: with another process writing it rarely gets to restart the
            # log, which then grows by megabytes a second. _checkpoint restarts it every CHECKPOINT_EVERY statements.
            self._run(conn, "PRAGMA wal_autocheckpoint=0")
            self._run(conn, "PRAGMA secure_delete=ON")  # a deleted salt or hash is overwritten, not left in free pages
            local.statements = 0
            fresh = self._ready_pid != os.getpid()
            if fresh:
                # WAL (readers beside one writer) is kept in the file, and the
                # schema once made stays: once per process is enough, even when
                # a threaded server makes a connection per request thread.
                for statement in ("PRAGMA journal_mode=WAL", *self._schema_sql):
                    self._run(conn, statement)
                self._ready_pid = os.getpid()
            local.conn, local.pid = conn, os.getpid()
            if fresh:
                # At start too, not only on a count: a day's salt goes even if no hit comes after it.
                try:
                    self._forget(int(time.time()))
                except StoreUnavailable:
                    pass  # the hourly purge tries again
        return local.conn

    def _drop(self) -> None:
        """Forget this thread's connection after a failure: the next call opens a fresh one.

        A connection opened while the file was read-only stays read-only, and one
        that failed mid-write may keep a broken state; a new one sees the file as it is now.
        """
        local = self._local
        conn, mine = getattr(local, "conn", None), getattr(local, "pid", None) == os.getpid()
        local.conn = local.pid = None
        if conn is not None and mine:  # one inherited through fork() is the parent's to close
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _run(
        self, conn: sqlite3.Connection, sql: str, args: tuple | dict = (), timeout: float | None = None
    ) -> list[tuple]:
        """Run one statement to completion, waiting up to ``timeout`` (default: the store's) for a writer's lock."""
        wait, deadline = FIRST_WAIT, None
        while True:
            try:
                # fetchall() steps the statement to completion, which commits it.
                return conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                now = time.monotonic()
                deadline = now + (self.timeout if timeout is None else timeout) if deadline is None else deadline
                if _code(exc) != sqlite3.SQLITE_BUSY or now >= deadline:
                    raise
            time.sleep(min(wait, deadline - now))
            wait = min(wait * 2, LONGEST_WAIT)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        """Every CHECKPOINT_EVERY statements on this connection, copy the log into the database and restart it.

        RESTART waits for no one (the connection's timeout is 0): when another connection holds the lock or
        still reads the log it does what it can and says so, and this tries again CHECKPOINT_EVERY statements
        later. It runs after a statement has committed, so it must never turn that statement into a failure.
        """
        local = self._local
        local.statements += 1
        if local.statements >= CHECKPOINT_EVERY:
            local.statements = 0
            try:
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            except sqlite3.Error:
                pass  # a full disk or a lock: the log only grows until a later one succeeds

    @contextmanager
    def _errors(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._connection()
        except (sqlite3.DatabaseError, OSError) as exc:
            self._drop()
            raise StoreUnavailable(f"SQLite: {exc}", transient=_code(exc) in TRANSIENT) from exc

    def _execute(self, sql: str, args: tuple | dict = (), timeout: float | None = None) -> list[tuple]:
        return self._healing(lambda conn: self._run(conn, sql, args, timeout))

    def _healing(self, work: Callable[[sqlite3.Connection], Result]) -> Result:
        """Run ``work`` on this thread's connection, once more on a fresh one if it was left read-only."""
        for fresh in (False, True):
            try:
                with self._errors() as conn:
                    result = work(conn)
                    self._checkpoint(conn)
                    return result
            except StoreUnavailable as exc:
                # A connection opened while the file was read-only stays read-only (a read
                # made it during the spell): the statement did nothing, so try a new one once.
                if fresh or _code(exc.__cause__) != sqlite3.SQLITE_READONLY:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` (waiting for the write lock like any statement), then commit, or roll back on error."""
        self._run(conn, "BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _incr_args(self, day: int, event: str, amount: int, max_events: int | None) -> dict[str, int | str | None]:
        args: dict[str, int | str | None] = {
            "day": day, "event": event, "amount": amount, "max": max_events, "room": MAX_COUNT - amount}
        args.update((f"d{n}", known) for n, known in enumerate(week_before(day)))
        return args

    def _refusal(self, conn: sqlite3.Connection, day: int, event: str, max_events: int | None) -> TooManyEvents:
        """Why the increment statement wrote nothing: a counter at its limit, or a full day."""
        if self._run(conn, self._count_sql, (day, event)):
            return CounterAtLimit(f"{event} of day {day} is at {MAX_COUNT}")
        return TooManyEvents(f"day {day} already has {max_events} events")

    def _count(self, conn: sqlite3.Connection, day: int, event: str) -> int:
        rows = conn.execute(self._count_sql, (day, event)).fetchall()
        return rows[0][0] if rows else 0

    def incr(
        self, day: int, event: str, amount: int = 1, *, max_events: int | None = None, visitor: Visitor | None = None
    ) -> int:
        if visitor is not None:
            return self._healing(lambda conn: self._incr_visited(conn, day, event, amount, max_events, visitor))
        rows = self._execute(self._bump_sql, {"day": day, "event": event, "amount": amount, "room": MAX_COUNT - amount})
        if not rows:  # a name new to the day, or a counter at its limit: the capped insert decides
            rows = self._execute(self._incr_sql, self._incr_args(day, event, amount, max_events))
        if rows:
            return rows[0][0]
        raise self._healing(lambda conn: self._refusal(conn, day, event, max_events))

    def _incr_visited(
        self, conn: sqlite3.Connection, day: int, event: str, amount: int, max_events: int | None, visitor: Visitor
    ) -> int:
        """The count and the visitor in one transaction: both or neither."""
        with self._transaction(conn):
            bump = {"day": day, "event": event, "amount": amount, "room": MAX_COUNT - amount}
            rows = (conn.execute(self._bump_sql, bump).fetchall()  # a name the day has: no cap to check
                    or conn.execute(self._incr_sql, self._incr_args(day, event, amount, max_events)).fetchall())
            if not rows:
                raise self._refusal(conn, day, event, max_events)
            self._see(conn, day, event, visitor)
            return rows[0][0]

    def incr_once(
        self, day: int, event: str, key: str, *, now: int, expires: int, max_events: int | None = None,
        read: bool = True, visitor: Visitor | None = None,
    ) -> Once:
        def once(conn: sqlite3.Connection) -> Once:
            # One transaction: the id is claimed and the count added together, or neither.
            with self._transaction(conn):
                if not conn.execute(self._claim_sql, {"id": key, "expires": expires, "now": now}).fetchall():
                    return Once(self._count(conn, day, event) if read else None, duplicate=True)
                rows = conn.execute(self._incr_sql, self._incr_args(day, event, 1, max_events)).fetchall()
                if not rows:
                    raise self._refusal(conn, day, event, max_events)
                self._see(conn, day, event, visitor)
                return Once(rows[0][0], duplicate=False)

        done = self._healing(once)
        self._purge(now)
        return done

    def _purge(self, now: int) -> None:
        """Delete a batch of expired ids when one is due; a failure only puts it off (the count is already in)."""
        if time.monotonic() < self._purge_due:
            return
        try:
            deleted = len(self._execute(self._purge_sql, (now,), PURGE_WAIT))
        except StoreUnavailable:
            deleted = 0
        if deleted < PURGE_BATCH:  # a full batch may have left more: go on at the next increment
            self._purge_due = time.monotonic() + PURGE_SECONDS
        try:
            self._forget(now)
        except StoreUnavailable:
            pass

    def set(self, day: int, event: str, count: int) -> None:
        self._execute(self._set_sql, (day, event, count))

    def write_many(
        self, rows: Iterable[Write], *, replace: bool = False, done: Callable[[list[int]], None] | None = None,
        lease: Lease | None = None,
    ) -> None:
        sql = self._set_sql if replace else self._add_sql
        source, start = iter(rows), 0
        while chunk := list(itertools.islice(source, CHUNK)):
            # One transaction per chunk: all of its rows are written, and counted in the progress, or none.
            with self._errors() as conn:
                with self._transaction(conn):
                    if conn.executemany(sql, [row[:3] for row in chunk]).rowcount < len(chunk):  # left by _add_sql
                        raise CounterAtLimit(f"a count would pass {MAX_COUNT}, the largest a counter holds")
                    conn.executemany(self._v.set, [row[:2] + row[3:] for row in chunk
                                                   if len(row) > 3 and row[3] is not None])
                    if lease:
                        self.advance(conn, lease, len(chunk))
                self._checkpoint(conn)  # a long import would otherwise grow the log by its whole size
            if done:
                done(list(range(start, start + len(chunk))))
            start += len(chunk)

    def dump(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, dict[str, int]]]:
        day, counts = None, {}
        with self._errors() as conn:
            # The primary key's order: the rows come sorted without a sort, a batch at a time.
            cursor = conn.execute(self._dump_sql, (first or FIRST_DAY, last or LAST_DAY))
            try:
                while batch := cursor.fetchmany(READ_BATCH):
                    for found, event, count in batch:
                        if found != day and counts:
                            yield day, counts
                            counts = {}
                        day, counts[event] = found, count
            finally:
                cursor.close()
        if counts:
            yield day, counts

    def imported(self, digest: str) -> str | None:
        found = self._execute(self._imported_sql, (digest,))
        return found[0][0] if found else None

    def record_import(self, digest: str, when: str) -> None:
        def record(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                conn.execute(self._record_sql, (digest, when))
                self.forget(conn, digest)

        self._healing(record)

    def get(self, days: Sequence[int]) -> Counts:
        return self._within(self._get_sql, days)

    def _within(self, sql: str, days: Sequence[int]) -> Counts:
        """The ``(day, event, number)`` rows ``sql`` selects between the first and last of ``days``, for ``days``."""
        if not days:
            return {}
        wanted = set(days)
        counts: Counts = {}
        for day, event, count in self._execute(sql, (min(wanted), max(wanted))):
            if day in wanted:
                counts.setdefault(day, {})[event] = count
        return counts

    def check(self) -> None:
        # A committed write, with a short wait for the lock: BEGIN IMMEDIATE alone
        # succeeds on a read-only file and on a full disk, where counting fails.
        self._execute(self._set_sql, (HEALTH_DAY, "healthz", 0), HEALTH_TIMEOUT)

    def where(self) -> str:
        """The file's absolute path: ``sqlite:///tmp/x`` is ``./tmp/x``, easily taken for ``/tmp/x``."""
        return f"SQLite file {os.path.abspath(self.path)}"

    def create(self) -> str:
        self._execute("SELECT 1")
        return f"SQLite table {self.table} is ready in {os.path.abspath(self.path)}."


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _code(exc: BaseException | None) -> int:
    """SQLite's primary result code of ``exc`` (such as SQLITE_BUSY), 0 for other errors."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF
