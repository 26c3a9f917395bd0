"""SQLite's part of the alert state: a table of marks and a table of observed hours, next to the counters."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .base import AlertState


def alert_tables(marks: str, seen: str) -> list[str]:
    """The statements that make the alert state's two tables, named ``marks`` and ``seen`` (quoted)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {marks} (name TEXT PRIMARY KEY, period INTEGER NOT NULL, at TEXT NOT NULL) "
        "WITHOUT ROWID",
        f"CREATE TABLE IF NOT EXISTS {seen} (hour TEXT PRIMARY KEY, counts TEXT NOT NULL) WITHOUT ROWID",
    ]


class SQLiteAlerts:
    """The alert state's four calls, each one statement (so each is atomic under SQLite's write lock)."""

    _marks: str  # the quoted table names, set by the store
    _seen: str

    def alert_state(self, seen: bool = True) -> AlertState:
        marks, hours = self._marks, self._seen
        run = self._execute  # type: ignore[attr-defined]
        return AlertState(
            marks={name: (period, at) for name, period, at in run(f"SELECT name, period, at FROM {marks}")},
            seen={hour: json.loads(counts) for hour, counts in run(f"SELECT hour, counts FROM {hours}")}
            if seen else {},
        )

    def mark(self, name: str, period: int, when: str) -> bool:
        marks = self._marks
        # A row comes back only when this statement took the mark: new, or held for an earlier period.
        return bool(self._execute(  # type: ignore[attr-defined]
            f"INSERT INTO {marks} (name, period, at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET period = excluded.period, at = excluded.at WHERE period < excluded.period RETURNING 1",
            (name, period, when)))

    def unmark(self, name: str, period: int) -> None:
        marks = self._marks
        run = self._execute  # type: ignore[attr-defined]
        run(f"DELETE FROM {marks} WHERE name = ? AND period = ?", (name, period))

    def observe(self, hour: str, counts: dict[str, int], forget: Sequence[str] = ()) -> None:
        seen = self._seen
        run = self._execute  # type: ignore[attr-defined]
        run(f"INSERT INTO {seen} (hour, counts) VALUES (?, ?) ON CONFLICT (hour) DO NOTHING",
            (hour, json.dumps(counts, sort_keys=True)))
        if forget:
            run(f"DELETE FROM {seen} WHERE hour IN ({', '.join('?' * len(forget))})", tuple(forget))

