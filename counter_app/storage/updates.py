"""The conditional ``UpdateItem`` requests a DynamoDB increment may send, one per place a name may be counted in."""

from __future__ import annotations

from dataclasses import dataclass

from .base import MAX_COUNT
from .placement import BYTES, CLAIM, DAY_ITEM_BYTES, NAMES, NEWCOMERS_BYTES, newcomers, next_day, size


@dataclass(frozen=True)
class Update:
    """One conditional ``UpdateItem`` of an increment; ``None`` from sending it means its condition failed."""

    key: int
    expression: str
    names: dict[str, str]
    values: dict[str, int]
    condition: str


class Updates:
    """The updates an increment of ``event`` by ``amount`` on ``day`` may send, each at most 4 KB of expression."""

    def __init__(self, day: int, event: str, amount: int) -> None:
        self.day, self.event, self.amount = day, event, amount
        self._room = {":n": amount, ":room": MAX_COUNT - amount}

    def existing(self, key: int) -> Update:
        """Add to the name in item ``key`` if it is there and stays within MAX_COUNT, or if it claimed room there."""
        return Update(key, "ADD #e :n REMOVE #c", {"#e": self.event, "#c": CLAIM + self.event}, self._room,
                      "attribute_exists(#c) OR (attribute_exists(#e) AND #e <= :room)")

    def claim(self, placed: int) -> Update | None:
        """Claim room for the name in the next day's item of the kind of ``placed``, where it was just counted."""
        after = next_day(abs(placed))
        if after is None:
            return None
        grant = size(self.event)
        names = {"#e": self.event, "#c": CLAIM + self.event, "#bytes": BYTES}
        condition = ("attribute_not_exists(#e) AND attribute_not_exists(#c) "
                     "AND (attribute_not_exists(#bytes) OR #bytes <= :left)")
        if placed > 0:
            names["#names"] = NAMES  # not an old-style day item
            condition += " AND attribute_not_exists(#names)"
        budget = DAY_ITEM_BYTES if placed > 0 else NEWCOMERS_BYTES
        return Update(after if placed > 0 else newcomers(after), "SET #c = :one ADD #bytes :size", names,
                      {":one": 1, ":size": grant, ":left": budget - grant}, condition)

    def into_day(self) -> Update:
        """Put the name in the day item while its granted bytes leave room (and it is not an old-style item)."""
        grant = size(self.event)
        return Update(
            self.day,
            "ADD #e :n, #bytes :size",
            {"#e": self.event, "#bytes": BYTES, "#names": NAMES},
            {":n": self.amount, ":size": grant, ":left": DAY_ITEM_BYTES - grant},
            "attribute_not_exists(#e) AND attribute_not_exists(#names) "
            "AND (attribute_not_exists(#bytes) OR #bytes <= :left)",
        )

    def known_newcomer(self) -> Update:
        """Put a known name in the newcomers item while it has room: no slot needed."""
        return self._newcomer("", {})

    def unknown_newcomer(self, max_events: int) -> Update:
        """Put an unknown name in the newcomers item if it has room and a slot is free, taking the slot."""
        slot = "AND (attribute_not_exists(#names) OR #names < :max) "
        return self._newcomer(", #names :one", {":one": 1, ":max": max_events}, slot)

    def _newcomer(self, take: str, values: dict[str, int], condition: str = "") -> Update:
        """Add the name to the newcomers item, granting its bytes while :data:`NEWCOMERS_BYTES` leaves room."""
        grant = size(self.event)
        return Update(
            newcomers(self.day),
            f"ADD #e :n, #bytes :size{take}",
            {"#e": self.event, "#bytes": BYTES, **({"#names": NAMES} if take else {})},
            {":n": self.amount, ":size": grant, ":left": NEWCOMERS_BYTES - grant, **values},
            f"attribute_not_exists(#e) {condition}AND (attribute_not_exists(#bytes) OR #bytes <= :left)",
        )
