"""The aggregator: the ids table's stream, a batch at a time, added to the day items exactly once.

A batch's new id records are summed per (day, event), and its new visitor records per (day, event) into the
day's visitors items, and applied with a checkpoint of the shard's last sequence number in ONE
``TransactWriteItems``, conditioned on the checkpoint being the one read before.
Records at or below the checkpoint were applied already, so a batch delivered again, bisected, or whose
reply was lost adds nothing twice. REMOVEs (TTL's deletions) and ids written by the transaction path
(they carry no event) are skipped, but still move the checkpoint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .base import FIRST_DAY, LAST_DAY, MAX_COUNT, PoisonRecord, StoreUnavailable
from .dynamodb_calls import cancellation
from .dynamodb_visitors import VISIT, visitors_key
from .dynamodb_writes import DAY, EVENT, TARGET, Writes
from .placement import newcomers

CHECKPOINTS = 10**15  # a shard's checkpoint item is Day = CHECKPOINTS + a hash of its id: never a day
SHARD, SEQUENCE = "shard", "sequence"  # lower case: never an event's name
MOST_ITEMS = 99  # TransactWriteItems takes 100 items: one is the checkpoint
EVENTS_PER_ITEM = 50  # keeps an item's update expression far below DynamoDB's 4 KB limit
ATTEMPTS = 5  # a batch's transaction, read again after a conflict, a lost reply or a moved name
NAME = re.compile(r"[A-Z0-9_.:/-]{1,64}")  # what params.event_name lets through


@dataclass(frozen=True)
class Hit:
    """One id record of the stream: a hit to add; or with ``target`` 0, one visitor record: a visitor to add."""

    sequence: int
    day: int
    event: str
    target: int


def hits(records: Iterable[Mapping[str, Any]]) -> tuple[list[Hit], str]:
    """The hits and visitors among stream ``records`` and the highest sequence number of them all, as written.

    :raises PoisonRecord: naming the first record that carries an event but cannot be applied.
    """
    found, last = [], ""
    for record in records:
        stream = record["dynamodb"]
        sequence = int(stream["SequenceNumber"])
        if not last or sequence > int(last):
            last = stream["SequenceNumber"]  # kept as written: GetShardIterator takes it back as a string
        image = stream.get("NewImage", {})
        # INSERT is a new id; MODIFY an expired one sent again (its record is put over the old one).
        if record.get("eventName") not in ("INSERT", "MODIFY") or EVENT not in image:
            continue
        try:
            target = 0 if VISIT in image else int(image[TARGET]["N"])
            hit = Hit(sequence, int(image[DAY]["N"]), image[EVENT]["S"], target)
        except (KeyError, TypeError, ValueError):
            raise PoisonRecord(f"record {sequence} lacks its day, event or target") from None
        if not (FIRST_DAY <= hit.day <= LAST_DAY and NAME.fullmatch(hit.event)
                and hit.target in (0, hit.day, newcomers(hit.day))):
            raise PoisonRecord(f"record {sequence} holds no valid day, event and target")
        found.append(hit)
    return found, last


def checkpoint_key(shard: str) -> int:
    """The counters table's key of ``shard``'s checkpoint item."""
    return CHECKPOINTS + int.from_bytes(hashlib.sha256(shard.encode()).digest()[:6], "big")


class Aggregator(Writes):
    """Apply the stream's batches to the counters."""

    def aggregate(self, shard: str, records: list[Mapping[str, Any]]) -> int:
        """Apply the hits and visitors of ``records``, one shard's batch in order, exactly once; the hits added now.

        :raises PoisonRecord: before any write, if a record cannot be applied.
        :raises StoreUnavailable: if the batch could not be applied; it may be sent again.
        """
        found, last = hits(records)
        if not last:
            return 0
        for _ in range(ATTEMPTS):
            done = self._checkpoint(shard)
            if done is not None and int(done) >= int(last):
                return 0  # applied already: a batch delivered again
            todo = [hit for hit in found if done is None or hit.sequence > int(done)]
            try:
                self._apply(shard, done, last, todo)
                return sum(1 for hit in todo if hit.target)  # hits; visitors are not hits
            except _Again as again:
                # The checkpoint moved (a lost reply was applied after all), or a name moved: read again.
                for key, events in again.moved.items():
                    found = self._place_again(key, events, found)
            except StoreUnavailable as exc:
                if not exc.transient:
                    raise
        raise StoreUnavailable(f"the batch of shard {shard} up to {last} was not applied", transient=True)

    def _checkpoint(self, shard: str) -> str | None:
        """The last sequence number applied from ``shard``, ``None`` before its first batch."""
        item = self._get_item(checkpoint_key(shard), SEQUENCE)
        return item[SEQUENCE]["S"] if SEQUENCE in item else None

    def _apply(self, shard: str, done: str | None, last: str, todo: list[Hit]) -> None:
        """One transaction: the sums of ``todo`` and the checkpoint moved from ``done`` to ``last``."""
        sums: dict[int, dict[str, int]] = {}
        seen: dict[int, dict[str, int]] = {}
        for hit in todo:
            into = sums.setdefault(hit.target, {}) if hit.target else seen.setdefault(self._seen_in(hit), {})
            into[hit.event] = into.get(hit.event, 0) + 1
        if (len(sums) + len(seen) > MOST_ITEMS
                or any(len(events) > EVENTS_PER_ITEM for events in [*sums.values(), *seen.values()])):
            raise StoreUnavailable(f"a batch of shard {shard} touches too many counters for one transaction: "
                                   "lower the batch size")
        mark = {"TableName": self.table, "Key": {"Day": {"N": str(checkpoint_key(shard))}},
                "UpdateExpression": "SET #s = :s, #shard = :shard",
                "ExpressionAttributeNames": {"#s": SEQUENCE, "#shard": SHARD},
                "ExpressionAttributeValues": {":s": {"S": last}, ":shard": {"S": shard}}}
        if done is None:
            mark["ConditionExpression"] = "attribute_not_exists(#s)"
        else:
            mark["ConditionExpression"] = "#s = :done"
            mark["ExpressionAttributeValues"][":done"] = {"S": done}
        items = [{"Update": mark}, *({"Update": self._sum(key, events)} for key, events in sums.items()),
                 *({"Update": self._add_visitors(key, events)} for key, events in seen.items())]
        with self._errors():
            try:
                self._call("transact_write_items", TransactItems=items)
            except ClientError as exc:
                codes = cancellation(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise _Again({}) from None
                moved = {key: sums[key] for key, code in zip(sums, codes[1:]) if code == "ConditionalCheckFailed"}
                if not moved:
                    raise
                raise _Again(moved) from None

    def _sum(self, key: int, events: dict[str, int]) -> dict[str, Any]:
        """The ``Update`` adding ``events`` to item ``key``, each already there and kept within MAX_COUNT."""
        names = {f"#e{n}": event for n, event in enumerate(events)}
        values = {f":n{n}": count for n, count in enumerate(events.values())}
        values.update({f":r{n}": MAX_COUNT - count for n, count in enumerate(events.values())})
        adds = ", ".join(f"#e{n} :n{n}" for n in range(len(events)))
        fits = " AND ".join(f"attribute_exists(#e{n}) AND #e{n} <= :r{n}" for n in range(len(events)))
        return self._update_request(key, f"ADD {adds}", names, values, fits)

    def _seen_in(self, hit: Hit) -> int:
        """The visitors item of ``hit``'s name: beside the day item's names or the others', as its count is placed."""
        view = self._views.get(hit.day) or self._load(hit.day)
        return visitors_key(hit.day, view.belongs_in_day(hit.event))

    def _add_visitors(self, key: int, events: dict[str, int]) -> dict[str, Any]:
        """The ``Update`` adding ``events``' new visitors to visitors item ``key``, unconditioned."""
        names = {f"#e{n}": event for n, event in enumerate(events)}
        values = {f":n{n}": count for n, count in enumerate(events.values())}
        return self._update_request(key, "ADD " + ", ".join(f"#e{n} :n{n}" for n in range(len(events))), names,
                                    values, None)

    def _place_again(self, key: int, events: dict[str, int], found: list[Hit]) -> list[Hit]:
        """``found`` with the hits of ``events`` in item ``key`` pointed at where each name is now (imports move)."""
        for event in events:
            now = self._placed_key(abs(key), event, None)  # admitted already: no cap
            found = [Hit(hit.sequence, hit.day, event, now) if (hit.target, hit.event) == (key, event) else hit
                     for hit in found]
        return found


class _Again(Exception):
    """The batch's transaction was refused for a reason a fresh read resolves; ``moved``: names not where expected."""

    def __init__(self, moved: dict[int, dict[str, int]]) -> None:
        super().__init__()
        self.moved = moved
