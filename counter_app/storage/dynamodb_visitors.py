"""Visitors on DynamoDB: one record per visitor, event and day in the ids table, and the days' salts beside them.

- A hit's visitor is one conditional ``PutItem`` of ``v#<day>#<event>#<hash>`` (1 WCU, an item only that visitor
  touches), which expires with the day; a returning visitor's record is found by a ``GetItem`` (1 RCU) instead.
  Its stream INSERT is the aggregator's to add to the day's visitors.
- The day's visitors live in two items of their own, ``Day = VISITORS + day`` for the names the day item counts and
  ``-(VISITORS + day)`` for the rest, so each stays within the byte budget of the counts it mirrors (placement).
- A day's salt is the item ``salt#<day>`` of the salts table (no point-in-time recovery, no stream), made on first
  use, with TTL at the day's end; the next day's first use deletes the salts before it, since TTL deletes
  "typically within two days of expiration", not at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from .base import FIRST_DAY, LAST_DAY, Counts, StoreUnavailable, Visitor, week_before
from .dynamodb_calls import BATCH_SIZE, EXPIRES, ID, DynamoDBCalls
from .placement import KEY, counts_of

VISITORS = 10**9  # Day = VISITORS + yyyyMMdd (and its negative): never a day, never a checkpoint (10**15 and up)
VISIT = "visit"  # a visitor record's mark (N 1), lower case: never an event's name
SALT = "salt"  # a salt item's bytes (B)
RECORD = "v#"  # the start of a visitor record's Id: never a hit's id, which has no "#" (params.IDEMPOTENCY_KEY)
STALE_SALTS = 3  # days before the new one whose salts its first use deletes
SEEN_HERE = 100_000  # visitor records this process knows are stored, for the newest day only: a repeat costs no write


def visitors_key(day: int, in_day: bool) -> int:
    """The key of ``day``'s visitors item for the names its day item counts, or (``in_day`` false) the others."""
    return VISITORS + day if in_day else -(VISITORS + day)


def visitor_record(table: str, day: int, event: str, visitor: Visitor) -> dict[str, Any]:
    """The ``PutItem`` into ``table`` of ``visitor``'s record for (``day``, ``event``), if it is not there already."""
    return {
        "TableName": table,
        "Item": {ID: {"S": f"{RECORD}{day}#{event}#{visitor.hash}"}, "day": {"N": str(day)}, "event": {"S": event},
                 VISIT: {"N": "1"}, EXPIRES: {"N": str(visitor.expires)}},
        "ConditionExpression": "attribute_not_exists(#id)",
        "ExpressionAttributeNames": {"#id": ID},
    }


class Visits(DynamoDBCalls):
    """Record visitors, keep the days' salts, read the days' visitors."""

    _seen_here: tuple[int, set[str]] = (0, set())
    _salts_forgotten = 0  # the day whose earlier salts this process has deleted

    def _visit(self, day: int, event: str, visitor: Visitor | None) -> None:
        """Put ``visitor``'s record for (``day``, ``event``) unless it is there: seen already today.

        A failed conditional put still costs a write unit, so a returning visitor is read first (a read unit, a fifth
        of a write's price), and a record this process saw stored is not even read.
        """
        if visitor is None:
            return
        record = visitor_record(self.ids_table, day, event, visitor)
        known_day, known = self._seen_here
        if known_day == day and record["Item"][ID]["S"] in known:
            return
        if not self._get_item(record["Item"][ID]["S"], ID, table=self.ids_table):
            with self._errors(self.ids_table):
                try:  # conditional still: another process may put it between the read and the put
                    self._call("put_item", **record)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise
        if known_day != day:
            if day < known_day:
                return
            known = set()  # a new day: yesterday's hashes leave memory with it
            self._seen_here = (day, known)
        if len(known) < SEEN_HERE:
            known.add(record["Item"][ID]["S"])

    def after_restore(self) -> None:
        super().after_restore()
        self._seen_here = (0, set())

    def salt(self, day: int, *, now: int, expires: int) -> bytes:
        key = f"salt#{day}"
        for _ in range(2):
            item = self._get_item(key, SALT, EXPIRES, table=self.salts_table)
            if item and int(item[EXPIRES]["N"]) > now:
                return bytes(item[SALT]["B"])
            made = secrets.token_bytes(32)
            with self._errors(self.salts_table):
                try:
                    # TTL deletes late: a salt past its time is replaced, never used.
                    self._call("put_item", TableName=self.salts_table,
                               Item={ID: {"S": key}, SALT: {"B": made}, EXPIRES: {"N": str(expires)}},
                               ConditionExpression="attribute_not_exists(#id) OR #expires <= :now",
                               ExpressionAttributeNames={"#id": ID, "#expires": EXPIRES},
                               ExpressionAttributeValues={":now": {"N": str(now)}})
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise
                    continue  # another process made it first: read theirs
            self.forget_salts(day, now=now)
            return made
        raise StoreUnavailable(f"the salt of day {day} could not be read or made", transient=True)

    def forget_salts(self, day: int, *, now: int) -> None:
        """Delete the salts of the days before ``day`` that have expired: one ``DeleteItem`` a day, once a process.

        A failure leaves them to the next call, or to TTL (which may lag about two days).
        """
        if self._salts_forgotten == day:
            return
        gone = True
        for before in week_before(day)[:STALE_SALTS]:
            try:
                self._call("delete_item", TableName=self.salts_table, Key={ID: {"S": f"salt#{before}"}},
                           ConditionExpression="attribute_not_exists(#id) OR #expires <= :now",
                           ExpressionAttributeNames={"#id": ID, "#expires": EXPIRES},
                           ExpressionAttributeValues={":now": {"N": str(now)}})
            except ClientError as exc:
                gone = gone and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
        if gone:  # each one deleted, absent, or not expired yet
            self._salts_forgotten = day

    def visitors(self, days: Sequence[int]) -> Counts:
        unique = [day for day in dict.fromkeys(days) if FIRST_DAY <= day <= LAST_DAY]
        keys = [{KEY: {"N": str(visitors_key(day, part))}} for day in unique for part in (True, False)]
        found: Counts = {}
        for start in range(0, len(keys), BATCH_SIZE):
            for item in self._batch_get(keys[start : start + BATCH_SIZE]):
                into = found.setdefault(abs(int(item[KEY]["N"])) - VISITORS, {})
                for event, number in counts_of(item).items():
                    into[event] = into.get(event, 0) + number
        return {day: events for day, events in found.items() if events}
