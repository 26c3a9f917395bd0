"""The interface every counter store implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

Counts = dict[int, dict[str, int]]
"""Counts per day: ``{20261127: {"PAGEVIEW": 3}}``."""

Write = tuple[int, str, int] | tuple[int, str, int, int | None]
"""One counter to write: ``(day, event, count)``, or with the day's visitors of the event (``None``: none given)."""

FIRST_DAY, LAST_DAY = 10101, 99991231
"""The first and last day a store keeps (00010101 and 99991231); other keys are bookkeeping, never returned by reads."""

MAX_COUNT = 2**63 - 1
"""The largest count: SQLite's INTEGER limit, and what an export may hold and an import accepts."""

IDEMPOTENT_WRITES = ("stream", "transaction")
"""How DynamoDB writes an increment with an id: its record alone, added up by the aggregator; or with the count."""

KNOWN_DAYS = 7
"""A name counted on one of this many days before a day is known to that day: the cap never refuses it."""


@dataclass(frozen=True)
class Lease:
    """One run's hold on the import of one file into a store, so that two runs never write it at once."""

    name: str
    """The file's SHA-256."""
    holder: str
    """The run: its host, its process id and a random id, such as ``web1 4242 9f0c...``."""


class ConfigurationError(ValueError):
    """The store URL or its options are not usable."""


class StoreUnavailable(Exception):
    """The store could not be reached or did not confirm the operation.

    :param transient: the fault may pass on its own (a lock, throttling, a lost
        connection), so a retry can succeed; ``False`` for faults an operator must fix.
    """

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


class TooManyEvents(Exception):
    """The day already holds as many distinct events as it may: a new name is refused."""


class PoisonRecord(ValueError):
    """A record of the ids stream that carries an event but cannot be applied: it is never dropped silently."""


class CounterAtLimit(TooManyEvents):
    """The counter holds :data:`MAX_COUNT` (or would pass it): the increment is refused."""


def week_before(day: int) -> list[int]:
    """The :data:`KNOWN_DAYS` days before ``day``, newest first: ``20261201`` -> ``[20261130, ...]``."""
    when = date(day // 10000, day // 100 % 100, day % 100)
    before = (when - timedelta(days=n) for n in range(1, KNOWN_DAYS + 1))
    return [d.year * 10000 + d.month * 100 + d.day for d in before]


@dataclass(frozen=True)
class Visitor:
    """A hit's visitor: the day's salted hash of who sent it, kept until the day is over."""

    hash: str
    """Hexadecimal, never reversible once the day's salt is gone."""
    expires: int
    """When the day ends, in seconds since the epoch: the record of the visitor may go then."""


@dataclass(frozen=True)
class Once:
    """What an idempotent increment did."""

    count: int | None
    """The counter's value (after this increment, or now for a duplicate); ``None`` when not asked for."""
    duplicate: bool
    """The id was already applied within its window, so nothing was added."""


@dataclass(frozen=True)
class AlertState:
    """What the alert checks keep in the store: when each mark was last taken, and the counts checks observed."""

    marks: dict[str, tuple[int, str]]
    """``{"fired:signups-stopped": (20261127, "2026-11-27T14:00:00+00:00")}``: the period and time of each mark."""
    seen: dict[str, dict[str, int]]
    """``{"2026112714": {"SIGNUP": 3}}``: counts of the day so far, as the first check of that local hour saw them."""


class Storage(ABC):
    """A place that keeps one counter per (day, event)."""

    keeps_progress = False
    """Whether :meth:`write_many` records an import's progress in the same transaction as its rows."""

    item_bytes: int | None = None
    """The most bytes one day's events may take in an import (each :meth:`row_bytes`), when the store has a limit."""

    in_flight = 0
    """How many rows an import that is killed outright may have written without having seen them confirmed."""

    @staticmethod
    def row_bytes(event: str, count: int) -> int:
        """The bytes an event's count takes towards :attr:`item_bytes`."""
        return 0

    table: str

    def where(self) -> str:
        """Where the counts are kept, as a person should read it before anything is written there."""
        return f"table {self.table}"

    @abstractmethod
    def incr(
        self, day: int, event: str, amount: int = 1, *, max_events: int | None = None, visitor: Visitor | None = None
    ) -> int:
        """Atomically add ``amount`` to the counter and return its new value.

        :param day: the day as ``int`` yyyyMMdd.
        :param event: a validated event name.
        :param max_events: refuse a name that is neither on the day nor known (counted on one of the
            :data:`KNOWN_DAYS` days before) once the day is full; checked in the same atomic write.
            ``None``: every name is known (an allowlist, or an owner's write).
        :param visitor: the hit's visitor, added to the day's visitors of ``event`` unless already seen.
        :raises TooManyEvents: if ``event`` is new and unknown and the day is full; nothing is written.
        :raises CounterAtLimit: if the counter would pass :data:`MAX_COUNT`; nothing is written.
        :raises StoreUnavailable: if the write is not confirmed.
        """

    @abstractmethod
    def incr_once(
        self, day: int, event: str, key: str, *, now: int, expires: int, max_events: int | None = None,
        read: bool = True, visitor: Visitor | None = None,
    ) -> Once:
        """Add 1 to the counter and record ``key``, in one atomic write, unless ``key`` is recorded already.

        :param key: the increment's idempotency key; a recorded key that expired at or before ``now`` is not.
        :param now: the time, in seconds since the epoch.
        :param expires: when ``key`` stops being recorded, in seconds since the epoch.
        :param max_events: as for :meth:`incr`; a recorded key never needs a slot.
        :param read: return the count; ``False`` spares a read where the write does not return it.
        :param visitor: as for :meth:`incr`; a recorded key adds no visitor but the one it was first sent with.
        :raises TooManyEvents: as for :meth:`incr`, for a key not recorded; nothing is written.
        :raises CounterAtLimit: as for :meth:`incr`, for a key not recorded; nothing is written.
        :raises StoreUnavailable: if the write is not confirmed: the key and the increment are both
            written or neither is, so the same call may be made again.
        """

    @abstractmethod
    def set(self, day: int, event: str, count: int) -> None:
        """Set the counter to ``count``, leaving the day's other events alone.

        :raises StoreUnavailable: if the write is not confirmed.
        """

    def write_many(
        self, rows: Iterable[Write], *, replace: bool = False, done: Callable[[list[int]], None] | None = None,
        lease: Lease | None = None,
    ) -> None:
        """Add (or with ``replace``, set) many counters; one (day, event) at most once.

        A row's visitors, when given, are set (never added: two visitor figures do not add up to visitors).

        ``rows`` is read as the writes go, a bounded number at a time, so any number of rows takes
        flat memory. Imports are not capped by ``max_events``.

        :param done: called with the positions in ``rows`` (from 0) of the rows whose writes the store
            has confirmed.
        :param lease: only where :attr:`keeps_progress`: add the rows written to :meth:`progress` of
            ``lease.name`` in the same transaction, and write only while ``lease`` is held.
        :raises StoreUnavailable: at the first write that fails; earlier ones stay written.
        """
        write = self.set if replace else self.incr
        for index, (day, event, count, *_) in enumerate(rows):
            write(day, event, count)
            if done:
                done([index])

    @abstractmethod
    def dump(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, dict[str, int]]]:
        """Every stored day from ``first`` to ``last`` inclusive (``None`` leaves that end open) with its counts.

        Days come oldest first, without days that hold no counts, read as they are used, so a store of
        any size exports in flat memory. Unlike :meth:`get` this may read the whole table: it is for
        export, not for requests.
        """

    @abstractmethod
    def imported(self, digest: str) -> str | None:
        """When a file whose content has the SHA-256 ``digest`` was last imported in full, or ``None``.

        The record is kept next to the counts (a table of its own in SQLite, the item ``Day=0`` in
        DynamoDB) and never shows in :meth:`get` or :meth:`dump`.

        :raises StoreUnavailable: if the store does not answer.
        """

    @abstractmethod
    def record_import(self, digest: str, when: str) -> None:
        """Remember that a file whose content has the SHA-256 ``digest`` was imported in full at ``when``.

        Where :attr:`keeps_progress`, its progress is forgotten in the same transaction.

        :raises StoreUnavailable: if the write is not confirmed.
        """

    def progress(self, name: str) -> int:
        """How many rows of the file ``name`` (its SHA-256) earlier runs wrote, where :attr:`keeps_progress`."""
        return 0

    @abstractmethod
    def take_lease(self, lease: Lease, *, now: float, until: float, dead: str | None = None) -> str | None:
        """Take or renew ``lease`` until ``until`` unless another holder's lease on that file runs past ``now``.

        :param dead: a holder known to be dead, whose lease is taken over however long it runs.
        :return: ``None`` if ``lease.holder`` holds it now, else the holder that does.
        :raises StoreUnavailable: if the store does not answer.
        """

    @abstractmethod
    def drop_lease(self, lease: Lease) -> None:
        """Give ``lease`` up, if ``lease.holder`` still holds it."""

    @abstractmethod
    def alert_state(self, seen: bool = True) -> AlertState:
        """The marks and (unless not ``seen``) the observations of the alert checks, in one read.

        :raises StoreUnavailable: if the store does not answer.
        """

    @abstractmethod
    def mark(self, name: str, period: int, when: str) -> bool:
        """Take mark ``name`` for ``period`` (such as a day) unless it is taken for this period or a later one.

        One conditional write: of any number of concurrent calls for one period, exactly one returns ``True``.

        :raises StoreUnavailable: if the write is not confirmed.
        """

    @abstractmethod
    def unmark(self, name: str, period: int) -> None:
        """Release mark ``name`` if it is held for ``period`` (its message was not delivered), so a later check retries.

        :raises StoreUnavailable: if the write is not confirmed.
        """

    @abstractmethod
    def observe(self, hour: str, counts: dict[str, int], forget: Sequence[str] = ()) -> None:
        """Keep ``counts`` as hour ``hour``'s (yyyyMMddHH) unless that hour has some already; drop the hours ``forget``.

        :raises StoreUnavailable: if the write is not confirmed.
        """

    @abstractmethod
    def get(self, days: Sequence[int]) -> Counts:
        """Return the counts of the given days; days without counts are left out."""

    @abstractmethod
    def visitors(self, days: Sequence[int]) -> Counts:
        """The visitors of the given days per event; days without visitors are left out."""

    @abstractmethod
    def salt(self, day: int, *, now: int, expires: int) -> bytes:
        """``day``'s salt: 32 random bytes, made on first use, kept until ``expires``; expired salts go on the way.

        :raises StoreUnavailable: if the store does not answer.
        """

    @abstractmethod
    def forget_salts(self, day: int, *, now: int) -> None:
        """Delete the salts (and what they hashed) of the days before ``day`` that have expired at ``now``.

        :raises StoreUnavailable: if the store does not answer.
        """

    @abstractmethod
    def check(self) -> None:
        """Prove with one cheap call that the store works as counting needs it.

        :raises StoreUnavailable: if it does not.
        """

    @abstractmethod
    def create(self) -> str:
        """Create the schema or table if missing and say what was done."""

    def before_snapshot(self) -> None:
        """Build what the first write would build, without a call (SnapStart snapshots the process after this)."""

    def after_restore(self) -> None:
        """In a copy restored from a snapshot, forget connections and cached reads that the snapshot may hold."""
