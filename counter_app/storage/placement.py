"""Where a DynamoDB increment goes: the day's item for its established names, the newcomers item for the rest.

A day has two items. ``Day = yyyyMMdd`` holds the names the week before
counted most, as many as fit in :data:`DAY_ITEM_BYTES`, so that every write to
it costs at most 4 WCU whatever else the day receives. ``Day = -yyyyMMdd``
holds every other name: those the week before knew go in freely, and names
nobody knew take one of ``max_events`` slots, all within :data:`NEWCOMERS_BYTES`,
so a write there costs at most 32 WCU. Readers add the two together.

A name counted on a day claims room for itself in the next day's item of the
same kind (``c:NAME``, granted its bytes), and a day that has not begun takes
only names it holds or that claimed room in it. So the claims a day receives
before it begins are the names of the day before, which fit in its items as
they fit in that day's: a name counted every day always has room, however much
junk the week made known (issue 19 §10). Its first count there removes the claim.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .base import FIRST_DAY, LAST_DAY

KEY = "Day"
NAMES = "events"  # newcomers item: how many unknown names took a slot; lower case, so never an event's name
BYTES = "bytes"  # day item: the bytes its names were granted when placed
CLAIM = "c:"  # "c:NAME" holds NAME's room in an item until NAME is counted there; lower case, so never a count
DAY_ITEM_BYTES = 4000  # with the key and BYTES the item stays under 4 KB: at most 4 WCU a write
# The newcomers item's names: a day's slots of junk (200 names of 64 characters, 15 KB) and as much
# again for known names, so a write to it costs at most 32 WCU however long an attack goes on.
NEWCOMERS_BYTES = 32000
NUMBER_BYTES = 11  # what DynamoDB counts for a number up to MAX_COUNT (19 digits)
VIEW_SECONDS = 60.0  # a view older than this is loaded again before it refuses or places a name
VIEWS = 40  # views kept per process: the default window of writable days (31 back, today, tomorrow) and more


def newcomers(day: int) -> int:
    """The key of ``day``'s newcomers item."""
    return -day


def next_day(day: int) -> int | None:
    """The day after ``day`` (yyyyMMdd), ``None`` after the last."""
    if day >= LAST_DAY:
        return None
    after = date(day // 10000, day // 100 % 100, day % 100) + timedelta(days=1)
    return after.year * 10000 + after.month * 100 + after.day


def claims_of(item: dict[str, Any]) -> set[str]:
    """The names that claimed room in an item."""
    return {name[len(CLAIM):] for name in item if name.startswith(CLAIM)}


def real_day(key: int) -> int | None:
    """The day an item belongs to (its own for a day item, ``-key`` for a newcomers item), else ``None``."""
    day = abs(key)
    return day if FIRST_DAY <= day <= LAST_DAY else None


def counts_of(item: dict[str, Any]) -> dict[str, int]:
    """The event counts of an item: its numbers whose names have no lower-case letter (the key is ``Day``)."""
    return {name: int(value["N"]) for name, value in item.items() if "N" in value and name == name.upper()}


def merge(items: Iterable[dict[str, Any]]) -> dict[int, dict[str, int]]:
    """Counts per real day, each day's newcomers item added to its day item; other keys are left out."""
    counts: dict[int, dict[str, int]] = {}
    for item in items:
        day = real_day(int(item[KEY]["N"]))
        if day is not None:
            into = counts.setdefault(day, {})
            for name, count in counts_of(item).items():
                into[name] = into.get(name, 0) + count
    return {day: events for day, events in counts.items() if events}


def size(event: str) -> int:
    """The most bytes ``event`` can take in an item: its name and a number up to MAX_COUNT."""
    return len(event.encode()) + NUMBER_BYTES


def establish(totals: dict[str, int], budget: int = DAY_ITEM_BYTES) -> frozenset[str]:
    """The names for a day's item: most counted first (ties by name), each that still fits in ``budget``."""
    chosen, spent = [], 0
    for name, _ in sorted(totals.items(), key=lambda pair: (-pair[1], pair[0])):
        if spent + size(name) <= budget:
            chosen.append(name)
            spent += size(name)
    return frozenset(chosen)


@dataclass
class View:
    """What a process knows of one day: its week before, and what its two items held when loaded."""

    loaded: float
    known: frozenset[str]  # counted on one of the days before
    established: frozenset[str]  # the day item's share of ``known``
    in_day: set[str]  # names the day item holds
    in_newcomers: set[str]  # names the newcomers item holds
    slots: int  # slots the newcomers item had given when last seen
    spent: int  # bytes the newcomers item had granted when last seen
    spilled: set[str] = field(default_factory=set)  # established names the day item had no room for
    claimed_day: set[str] = field(default_factory=set)  # names with room claimed in the day item
    claimed_newcomers: set[str] = field(default_factory=set)  # names with room claimed in the newcomers item

    @classmethod
    def of(cls, day: int, items: list[dict[str, Any]], week: list[int]) -> View:
        """Build from the day's two items and those of ``week``, the days before it."""
        by_key = {int(item[KEY]["N"]): item for item in items}
        totals: dict[int, dict[str, int]] = merge(item for key, item in by_key.items() if abs(key) in week)
        history: dict[str, int] = {}
        for counts in totals.values():
            for name, count in counts.items():
                history[name] = history.get(name, 0) + count
        fresh = by_key.get(newcomers(day), {})
        return cls(
            claimed_day=claims_of(by_key.get(day, {})),
            claimed_newcomers=claims_of(fresh),
            loaded=time.monotonic(),
            known=frozenset(history),
            established=establish(history),
            in_day=set(counts_of(by_key.get(day, {}))),
            in_newcomers=set(counts_of(fresh)),
            slots=int(fresh.get(NAMES, {}).get("N", 0)),
            spent=int(fresh.get(BYTES, {}).get("N", 0)),
        )

    def belongs_in_day(self, event: str) -> bool:
        """Whether ``event`` is counted in the day item: it is there, or established with room and not a newcomer yet.

        A name the newcomers item holds stays there for the day even once established (a backdated hit
        can establish it): put in the day item too, its reply would give only that item's share.
        """
        placeable = event in self.established and event not in self.spilled and event not in self.in_newcomers
        return event in self.in_day or event in self.claimed_day or placeable

    def placed(self, event: str) -> bool:
        """Whether ``event`` has a place in the day item already: counted there, or room claimed."""
        return event in self.in_day or event in self.claimed_day

    def holder(self, day: int, event: str) -> int | None:
        """The key of the item that holds ``event`` or its claim, if one does as last seen."""
        if self.placed(event):
            return day
        if event in self.in_newcomers or event in self.claimed_newcomers:
            return newcomers(day)
        return None

    def split(self, event: str) -> bool:
        """Whether ``event`` was seen in both items (an import or a race put it there): its count is their sum."""
        return event in self.in_day and event in self.in_newcomers

    def refuses(self, event: str, max_events: int | None, *, known: bool) -> bool:
        """Whether ``event`` is surely refused: in neither item, and no room or (unknown) no slot left when last seen.

        Sure, not a guess from an old view: the newcomers item's bytes and slots only grow, so a
        name that could not get in when it was read cannot have got in since.
        """
        if event in self.in_newcomers or event in self.claimed_newcomers or self.belongs_in_day(event):
            return False
        no_slot = not known and max_events is not None and self.slots >= max_events
        return no_slot or self.spent + size(event) > NEWCOMERS_BYTES

    def remember(self, item: dict[str, Any]) -> None:
        """Take in the newcomers item as just read."""
        self.in_newcomers = set(counts_of(item))
        self.claimed_newcomers = claims_of(item)
        self.slots = int(item.get(NAMES, {}).get("N", 0))
        self.spent = int(item.get(BYTES, {}).get("N", 0))


class Claimed:
    """The ``(day, name)`` pairs this process has claimed the next day for, the newest few thousand."""

    def __init__(self, most: int = 10_000) -> None:
        self.most = most
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, day: int, event: str) -> bool:
        """Whether this is the first time ``event`` is seen on ``day``; remembers it."""
        with self._lock:
            if (day, event) in self._seen:
                return False
            self._seen[(day, event)] = None
            while len(self._seen) > self.most:
                self._seen.popitem(last=False)
            return True


class Views:
    """A small cache of views, newest used last; a view older than VIEW_SECONDS is not handed out."""

    def __init__(self, most: int = VIEWS, seconds: float = VIEW_SECONDS) -> None:
        self.most, self.seconds = most, seconds
        self._views: OrderedDict[int, View] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, day: int) -> View | None:
        """The day's view if it is fresh."""
        with self._lock:
            view = self._views.get(day)
            if view is None or time.monotonic() - view.loaded > self.seconds:
                return None
            self._views.move_to_end(day)
            return view

    def put(self, day: int, view: View) -> View:
        """Keep ``view``, dropping the least recently used beyond ``most``."""
        with self._lock:
            self._views[day] = view
            self._views.move_to_end(day)
            while len(self._views) > self.most:
                self._views.popitem(last=False)
        return view
