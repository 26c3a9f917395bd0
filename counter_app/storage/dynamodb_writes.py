"""The DynamoDB write path of one hit: where its name goes (placement), then one write.

- A plain hit is one ``UpdateItem ADD`` on the item its name belongs in.
- An idempotent hit (``writes="stream"``, the default) is one conditional ``PutItem`` of its id record, which
  carries the day, the event and the item the event is counted in; the aggregator adds the records up from the
  ids table's stream. Admission places a new name first (an ``ADD`` of 0), so every record it accepts applies.
- With ``writes="transaction"`` an idempotent hit is the id's ``Put`` and the ``ADD`` in one ``TransactWriteItems``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .base import MAX_COUNT, CounterAtLimit, Once, StoreUnavailable, TooManyEvents, Visitor, week_before
from .dynamodb_calls import EXPIRES, ID, number
from .dynamodb_transact import Duplicate, Transactions
from .dynamodb_visitors import Visits
from .placement import KEY, View, merge, newcomers
from .updates import Update, Updates

DAY = "day"  # an id record's day (N), on the stream path
EVENT = "event"  # an id record's event (S)
TARGET = "target"  # an id record's item (N): the day item's key or its newcomers item's
SENT_BY = "visitor"  # an id record's visitor hash (S): a retry of the id may complete that visitor, no other
# Admission refuses a counter this close to MAX_COUNT when its day was read (at most VIEW_SECONDS ago): no site
# adds 2**40 hits in that time, so every record admitted applies.
HEADROOM = 2**40
RELOAD_SECONDS = 1.0  # a day not begun refuses a name its view lacks only if the view is this fresh


class Writes(Transactions, Visits):
    """Count one hit, with or without an id."""

    def incr(
        self, day: int, event: str, amount: int = 1, *, max_events: int | None = None, visitor: Visitor | None = None
    ) -> int:
        if visitor is not None:
            # Admitted first, so a refused name gets no visitor; then the visitor, so that a retry after a failed
            # count finds the visitor stored and adds the count alone.
            self._admit(day, event, max_events)
            self._visit(day, event, visitor)
        value = number(self._count(Updates(day, event, amount), max_events, self._send)["Attributes"], event)
        return self._whole(day, event, value)

    def _whole(self, day: int, event: str, value: int) -> int:
        """The counter's value, given ``value`` from the item the increment went to: both items read if in both."""
        view = self._views.get(day)
        return self._current(day, event) if view and view.split(event) else value

    def incr_once(
        self, day: int, event: str, key: str, *, now: int, expires: int, max_events: int | None = None,
        read: bool = True, visitor: Visitor | None = None,
    ) -> Once:
        # The id first, carrying its visitor: a duplicate id adds only the visitor its first send had, and only if
        # that send failed between its two writes.
        done = self._once(day, event, key, now, expires, max_events, read, visitor)
        if visitor is not None and (not done.duplicate or self._sent_by(key) == visitor.hash):
            self._visit(day, event, visitor)
        return done

    def _sent_by(self, key: str) -> str | None:
        """The visitor hash the id record ``key`` carries, ``None`` without one."""
        return self._get_item(key, SENT_BY, table=self.ids_table).get(SENT_BY, {}).get("S")

    def _once(
        self, day: int, event: str, key: str, now: int, expires: int, max_events: int | None, read: bool,
        visitor: Visitor | None,
    ) -> Once:
        """:meth:`incr_once` without the visitor's record."""
        claim = self.claim(key, now=now, expires=expires)
        if visitor is not None:
            claim["Item"][SENT_BY] = {"S": visitor.hash}
        if self.writes == "stream":
            return self._record(claim, day, event, key, now, max_events)
        sent: list[Update] = []

        def send(update: Update) -> dict[str, Any] | None:
            sent.append(update)
            return self._transact(claim, update)

        try:
            reply = self._count(Updates(day, event, 1), max_events, send)
        except Duplicate:
            return Once(self._current(day, event) if read else None, duplicate=True)
        except TooManyEvents:
            # A process that saw the day full refuses an unknown name without a call, so without seeing the id.
            if sent or not self._recorded(key, now):
                raise
            return Once(self._current(day, event) if read else None, duplicate=True)
        # A transaction returns no values: read the count from the item the increment went to.
        value = number(self._get_item(reply["Key"], event), event) if read else None
        return Once(None if value is None else self._whole(day, event, value), duplicate=False)

    def claim(self, key: str, *, now: int, expires: int) -> dict[str, Any]:
        """The ``Put`` that records ``key`` until ``expires`` if it is not recorded (unexpired at ``now``) already."""
        return {
            "TableName": self.ids_table,
            "Item": {ID: {"S": key}, EXPIRES: {"N": str(expires)}},
            # TTL deletes a record some time after it expires, not at once: until then it must not count.
            "ConditionExpression": "attribute_not_exists(#id) OR #expires <= :now",
            "ExpressionAttributeNames": {"#id": ID, "#expires": EXPIRES},
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }

    def _record(
        self, claim: dict[str, Any], day: int, event: str, key: str, now: int, max_events: int | None
    ) -> Once:
        """The stream path: admit the name, then one conditional ``PutItem`` of the id record; no count to give."""
        try:
            target = self._admit(day, event, max_events)
        except TooManyEvents:
            if not self._recorded(key, now):
                raise
            return Once(None, duplicate=True)  # a duplicate needs no room: it was admitted when first sent
        item = {**claim["Item"], DAY: {"N": str(day)}, EVENT: {"S": event}, TARGET: {"N": str(target)}}
        with self._errors(self.ids_table):
            try:
                self._call("put_item", **{**claim, "Item": item})
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                return Once(None, duplicate=True)
        return Once(None, duplicate=False)

    def _admit(self, day: int, event: str, max_events: int | None) -> int:
        """The item ``event`` is counted in on ``day``, placing it there (an ``ADD`` of 0) if neither item holds it.

        :raises TooManyEvents: as :meth:`incr` would, so that a record the aggregator gets always applies.
        """
        view = self._views.get(day) or self._load(day)
        if event in self._full.get(day, ()):
            raise CounterAtLimit(f"{event} of day {day} is at or near {MAX_COUNT}")
        if event in view.in_day:
            return day
        if event in view.in_newcomers:
            return newcomers(day)
        return self._placed_key(day, event, max_events)

    def _placed_key(self, day: int, event: str, max_events: int | None) -> int:
        """Put ``event`` where the plain path would count it on ``day`` (an ``ADD`` of 0); the item's key."""
        placed: list[int] = []

        def send(update: Update) -> dict[str, Any] | None:
            placed.append(update.key)
            return self._send(update)

        self._count(Updates(day, event, 0), max_events, send)
        return placed[-1]  # the last update sent is the one that counted: _count raises otherwise

    def _count(
        self, updates: Updates, max_events: int | None, send: Callable[[Update], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Count one increment in the item its name belongs in, then claim the name's room in the next day.

        :param send: applies one :class:`Update` and returns its reply, or ``None`` if its
            condition failed; a caller that must wrap each write (in a transaction) passes its own.
        :return: the reply of the ``send`` that counted it.
        """
        placed: list[int] = []

        def sending(update: Update) -> dict[str, Any] | None:
            reply = send(update)
            if reply is not None:
                placed.append(update.key)
            return reply

        reply = self._place(updates, max_events, sending)
        self._claim_next(updates, placed[-1], reply)
        return reply

    def _claim_next(self, updates: Updates, placed: int, reply: dict[str, Any]) -> None:
        """Claim room for the name in the next day, once: on its first count of the day, as this process knows it.

        Admission on the stream path places a name with an ``ADD`` of 0: a reply of 0 is then a name not
        counted yet, and this process's first sight of it decides, as for a transaction's reply.
        """
        unseen = self._claimed.first(updates.day, updates.event)
        value = reply.get("Attributes", {}).get(updates.event)  # a transaction's reply has none
        first = int(value["N"]) == updates.amount if value else unseen
        if updates.amount == 0:
            first = first and unseen
        claim = updates.claim(placed)
        if not first or claim is None:
            return
        try:
            self._send(claim)  # None: the name or its claim is there already, or the item is full
        except (StoreUnavailable, TooManyEvents):
            pass  # the increment is counted: failing its request would have a client count it again

    def _place(
        self, updates: Updates, max_events: int | None, send: Callable[[Update], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Count one increment in the item its name belongs in: the one place that decides it."""
        day, event = updates.day, updates.event
        if max_events is not None and self.today is not None and day > self.today():
            # Not begun: what it takes before then are the claims of the day before, so they always fit.
            # With an allowlist there is no junk to keep out, and no rule.
            view = self._views.get(day) or self._load(day)
            if view.holder(day, event) is None and time.monotonic() - view.loaded > RELOAD_SECONDS:
                view = self._load(day)  # a name counted today for the first time claims its room here
            holder = view.holder(day, event)
            reply = send(updates.existing(holder)) if holder is not None else None
            if reply is None:
                raise TooManyEvents(f"day {day} has not begun: it takes only names counted the day before")
            return reply
        view = self._views.get(day)
        tried_day = view is None or view.belongs_in_day(event)
        if tried_day:
            # The hot path, and a cold start's first try: one call, no read, for a name the day item holds.
            reply = send(updates.existing(day))
            if reply:
                return reply
            view = view or self._load(day)
        if view.belongs_in_day(event):
            reply = (not view.placed(event) and send(updates.into_day())) or send(updates.existing(day))
            if reply:
                view.in_day.add(event)
                return reply
            if self._holds(day, event):
                raise CounterAtLimit(f"{event} of day {day} is at {MAX_COUNT}")
            view.spilled.add(event)  # the day item's bytes are spent: count it with the newcomers
        return self._count_newcomer(updates, max_events, send, view, tried_day)

    def _count_newcomer(
        self, updates: Updates, max_events: int | None, send: Callable[[Update], dict[str, Any] | None],
        view: View, tried_day: bool,
    ) -> dict[str, Any]:
        """Count a name not in the day item in the day's newcomers item, while it has room; unknown, in a slot."""
        day, event, key = updates.day, updates.event, newcomers(updates.day)
        known = max_events is None or event in view.known
        if view.refuses(event, max_events, known=known):
            raise TooManyEvents(f"day {day} has no room for another new event")  # no call at all
        take = updates.known_newcomer() if known else updates.unknown_newcomer(max_events)
        # The cheaper guess first; the other covers a writer that put the name in since the view was read.
        held = event in view.in_newcomers or event in view.claimed_newcomers
        first, then = (updates.existing(key), take) if held else (take, updates.existing(key))
        reply = send(first)
        if reply is None and not tried_day:
            # The view may be old: an import can have moved the name to the day item.
            reply = send(updates.existing(day))
            if reply:
                view.in_day.add(event)
                return reply
        reply = reply or send(then)
        if reply is None:
            view.remember(self._get_item(key))  # one read; names that cannot get in are then refused with no call
            if event in view.in_newcomers:
                raise CounterAtLimit(f"{event} of day {day} is at {MAX_COUNT}")
            raise TooManyEvents(f"day {day} has no room for another new event")
        view.in_newcomers.add(event)
        return reply

    def _load(self, day: int) -> View:
        """Read the day's two items and those of the week before (one BatchGetItem) into a fresh view."""
        week = week_before(day)
        keys = [{KEY: {"N": str(key)}} for d in [day, *week] for key in (d, newcomers(d))]
        items = self._batch_get(keys)
        counts = merge(item for item in items if abs(int(item[KEY]["N"])) == day).get(day, {})
        self._full[day] = {event for event, count in counts.items() if count > MAX_COUNT - HEADROOM}
        return self._views.put(day, View.of(day, items, week))

    def _recorded(self, key: str, now: int) -> bool:
        """Whether the ids table holds ``key``, unexpired."""
        return number(self._get_item(key, EXPIRES, table=self.ids_table), EXPIRES) > now

    def _current(self, day: int, event: str) -> int:
        """The counter's value now: its two items read together (a name may sit in both)."""
        keys = [{KEY: {"N": str(key)}} for key in (day, newcomers(day))]
        return merge(self._batch_get(keys, KEY, event)).get(day, {}).get(event, 0)

    def _holds(self, day: int, event: str) -> bool:
        """Whether the day item has ``event``: after its conditional updates failed, the counter is at its limit."""
        return event in self._get_item(day, event)

    def _send(self, update: Update) -> dict[str, Any] | None:
        return self._update(update.key, update.expression, update.names, update.values, update.condition)
