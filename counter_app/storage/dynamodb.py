"""DynamoDB store: two items per day (see placement), one numeric attribute per event."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as NotConnected

from .. import deadline
from .base import (
    FIRST_DAY,
    LAST_DAY,
    MAX_COUNT,
    CounterAtLimit,
    Counts,
    Lease,
    Once,
    Storage,
    StoreUnavailable,
    TooManyEvents,
    Write,
    week_before,
)
from . import dynamodb_imports
from .dynamodb_alerts import DynamoDBAlerts
from .placement import KEY, Claimed, Update, Updates, View, Views, merge, newcomers

BATCH_SIZE = 100  # BatchGetItem's limit on keys per call
BATCH_ATTEMPTS = 5
ATTEMPTS = 3  # per call, only when the failure proves the call was not applied
EVENTS_PER_UPDATE = 50  # keeps one UpdateItem's expressions far below DynamoDB's 4 KB limit
WORKERS = 8  # concurrent UpdateItem calls in write_many
WINDOW = 4000  # rows write_many holds at a time: days of a window go in parallel
IMPORTS = 0  # the Day of the item that records imported files: no day is 0
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
# Refused before anything was applied, so sent again: throttling, and an item that a transaction holds.
UNAPPLIED = THROTTLED | {"TransactionConflictException"}
# Why a transaction was cancelled, when none of them means it may succeed if sent again.
UNAPPLIED_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
# Faults that pass on their own, so a client's retry can succeed; AccessDenied or a missing table do not.
TRANSIENT = UNAPPLIED | {"InternalServerError", "ServiceUnavailable"}
HEALTH_KEY = 1  # never written: the health check reads it
RELOAD_SECONDS = 1.0  # a day not begun refuses a name its view lacks only if the view is this fresh
ID = "Id"  # the ids table's key (S): an increment's idempotency key
EXPIRES = "expires"  # the ids table's TTL attribute, in seconds since the epoch

# botocore's own retries would resend an ADD whose reply timed out, which
# DynamoDB may already have applied, so every call is sent once and _call
# retries only what was not applied. A call takes at most 1 s to connect plus
# 2 s to answer, and starts only if that fits before the request's deadline
# (counter_app/deadline.py): a slow store is a 503 inside Lambda's timeout.
CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 1},
    tcp_keepalive=True,
)
CALL_SECONDS = CLIENT_CONFIG.connect_timeout + CLIENT_CONFIG.read_timeout  # the longest one call can take


class DynamoDBStorage(DynamoDBAlerts, Storage):
    """Counters in a DynamoDB table keyed by ``Day`` (N), updated with ``ADD``.

    Endpoint, region and credentials come from boto3's standard environment,
    such as ``AWS_ENDPOINT_URL_DYNAMODB`` and ``AWS_DEFAULT_REGION``.

    :param url: ``dynamodb://``.
    :param table: the table name, ``<prefix>_counters``.
    :param ids_table: the table of idempotency keys, ``<prefix>_counter_ids``, keyed by ``Id`` (S).
    """

    def __init__(
        self, url: str, *, table: str = "TEST_counters", ids_table: str = "TEST_counter_ids",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.ids_table = ids_table
        self._sleep = deadline.paced(sleep, CALL_SECONDS)  # no pause after which the next call would end too late
        self._client: Any = None
        self._lock = threading.Lock()
        self._views = Views()
        self._claimed = Claimed()
        # The app sets it (yyyyMMdd in its time zone): a day after it takes only names it holds or claimed.
        self.today: Callable[[], int] | None = None

    @property
    def client(self) -> Any:
        """The one boto3 client of this process, made on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3.session.Session().client("dynamodb", config=CLIENT_CONFIG)
        return self._client

    def before_snapshot(self) -> None:
        self.client  # noqa: B018 (the property builds it; a client opens no connection until its first call)

    def after_restore(self) -> None:
        if self._client is not None:
            self._client.close()  # every pooled connection: a copy must open its own
        self._views = Views()

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Send one call, again after a refusal that applied nothing (see :func:`_unapplied`) or a failed connection."""
        for attempt in range(ATTEMPTS):
            deadline.check(CALL_SECONDS)  # a call starts only if it ends, answered or not, before the request's deadline
            try:
                return getattr(self.client, operation)(**kwargs)
            except ClientError as exc:
                if not _unapplied(exc) or attempt == ATTEMPTS - 1:
                    raise
            except NotConnected:
                if attempt == ATTEMPTS - 1:
                    raise
            self._sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _errors(self, table: str | None = None) -> Iterator[None]:
        """Turn boto3's errors into :class:`StoreUnavailable`; ``table`` names what the calls touch (the counters')."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            refused = self._refused(exc, table or self.table)
            raise StoreUnavailable(refused, transient=code in TRANSIENT or status >= 500) from exc
        except NoRegionError as exc:
            raise StoreUnavailable("no AWS region is set: set AWS_DEFAULT_REGION, such as eu-west-1") from exc
        except NoCredentialsError as exc:
            raise StoreUnavailable("no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY") from exc
        except BotoCoreError as exc:
            # A connection that failed or a reply that did not come: the store may be back in a moment.
            lost = isinstance(exc, (NotConnected, HTTPClientError))
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}", transient=lost) from exc

    def _refused(self, exc: ClientError, table: str) -> str:
        """What DynamoDB refused, in words that say what to do about it when that is known."""
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        action = f"dynamodb:{exc.operation_name}"
        if code in ("AccessDeniedException", "UnauthorizedOperation"):
            return f"DynamoDB {code}: these credentials may not call {action} on table {table}"
        if code == "ResourceNotFoundException":
            return f"DynamoDB {code}: table {table} does not exist (flask create-table makes it)"
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
            return f"DynamoDB {code}: the AWS credentials are not valid for {action}"
        return f"DynamoDB {code}"

    def incr(self, day: int, event: str, amount: int = 1, *, max_events: int | None = None) -> int:
        value = _value(self._count(Updates(day, event, amount), max_events, self._send), event)
        return self._whole(day, event, value)

    def _whole(self, day: int, event: str, value: int) -> int:
        """The counter's value, given ``value`` from the item the increment went to: both items read if in both."""
        view = self._views.get(day)
        return self._current(day, event) if view and view.split(event) else value

    def incr_once(
        self, day: int, event: str, key: str, *, now: int, expires: int, max_events: int | None = None,
        read: bool = True,
    ) -> Once:
        claim = self.claim(key, now=now, expires=expires)
        sent: list[Update] = []

        def send(update: Update) -> dict[str, Any] | None:
            sent.append(update)
            return self._transact(claim, update)

        try:
            reply = self._count(Updates(day, event, 1), max_events, send)
        except _Duplicate:
            return Once(self._current(day, event) if read else None, duplicate=True)
        except TooManyEvents:
            # A process that saw the day full refuses an unknown name without a call, so without seeing the id.
            if sent or not self._recorded(key, now):
                raise
            return Once(self._current(day, event) if read else None, duplicate=True)
        # A transaction returns no values: read the count from the item the increment went to.
        value = _number(self._get_item(reply["Key"], event), event) if read else None
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
        """Claim room for the name in the next day, once: on its first count of the day, as this process knows it."""
        unseen = self._claimed.first(updates.day, updates.event)
        value = reply.get("Attributes", {}).get(updates.event)  # a transaction's reply has none
        first = int(value["N"]) == updates.amount if value else unseen
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
        """Count a name that is not the day item's in the day's newcomers item, while it has room; unknown, in a slot."""
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
        return self._views.put(day, View.of(day, self._batch_get(keys), week))

    def _get_item(self, key: int | str, *names: str, table: str | None = None) -> dict[str, Any]:
        """One consistent ``GetItem`` of item ``key`` (only the attributes ``names``, if given); ``{}`` if missing.

        :param table: another table keyed by a string ``Id`` (the ids table); ``key`` is then that string.
        """
        where = {KEY: {"N": str(key)}} if table is None else {ID: {"S": str(key)}}
        with self._errors(table):
            reply = self._call("get_item", TableName=table or self.table, Key=where, ConsistentRead=True,
                               **_projection(names))
        return reply.get("Item", {})

    def _recorded(self, key: str, now: int) -> bool:
        """Whether the ids table holds ``key``, unexpired."""
        return _number(self._get_item(key, EXPIRES, table=self.ids_table), EXPIRES) > now

    def _current(self, day: int, event: str) -> int:
        """The counter's value now: its two items read together (a name may sit in both)."""
        keys = [{KEY: {"N": str(key)}} for key in (day, newcomers(day))]
        return merge(self._batch_get(keys, KEY, event)).get(day, {}).get(event, 0)

    def _holds(self, day: int, event: str) -> bool:
        """Whether the day item has ``event``: after its conditional updates failed, the counter is at its limit."""
        return event in self._get_item(day, event)

    def _send(self, update: Update) -> dict[str, Any] | None:
        return self._update(update.key, update.expression, update.names, update.values, update.condition)

    def _update_request(
        self, key: int, expression: str, names: dict[str, str], values: dict[str, int], condition: str | None = None
    ) -> dict[str, Any]:
        """The parameters of an ``UpdateItem`` of item ``key``, alone or in a transaction."""
        request: dict[str, Any] = {
            "TableName": self.table, "Key": {KEY: {"N": str(key)}}, "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if condition:
            request["ConditionExpression"] = condition
        if values:
            request["ExpressionAttributeValues"] = {name: {"N": str(value)} for name, value in values.items()}
        return request

    def _update(
        self, key: int, expression: str, names: dict[str, str], values: dict[str, int], condition: str | None = None
    ) -> dict[str, Any] | None:
        """One ``UpdateItem`` of item ``key`` returning the new values; ``None`` if ``condition`` failed."""
        with self._errors():
            try:
                return self._call("update_item", ReturnValues="UPDATED_NEW",
                                  **self._update_request(key, expression, names, values, condition))
            except ClientError as exc:
                error = exc.response.get("Error", {})
                if error.get("Code") == "ConditionalCheckFailedException":
                    return None
                if _too_large(error):
                    raise TooManyEvents(f"item {key} reached DynamoDB's item size limit") from exc
                raise

    def _transact(self, claim: dict[str, Any], update: Update) -> dict[str, Any] | None:
        """One ``TransactWriteItems``: the Put ``claim`` of an id and ``update``, both or neither.

        :return: ``{"Key": <the updated item's key>}``, or ``None`` if the update's condition failed.
        :raises _Duplicate: if the id's condition failed: it is recorded, so its increment was applied.
        """
        items = [{"Put": claim}, {"Update": self._update_request(
            update.key, update.expression, update.names, update.values, update.condition)}]
        with self._errors(f"{self.table} or {self.ids_table}"):
            try:
                self._call("transact_write_items", TransactItems=items)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                # One reason per item, in order; "None" for an item that was not the cause.
                reasons = [*exc.response.get("CancellationReasons", []), {}, {}]
                if reasons[0].get("Code") == "ConditionalCheckFailed":
                    raise _Duplicate() from None
                if reasons[1].get("Code") == "ConditionalCheckFailed":
                    return None
                if any(_too_large(reason) for reason in reasons):
                    raise TooManyEvents(f"item {update.key} reached DynamoDB's item size limit") from exc
                codes = ", ".join(str(reason.get("Code")) for reason in reasons[:2])
                raise StoreUnavailable(f"DynamoDB transaction cancelled: {codes}", transient=_unapplied(exc)) from exc
        return {"Key": update.key}

    def set(self, day: int, event: str, count: int) -> None:
        self._write_events(day, [(event, count)], replace=True)

    def _write_events(self, day: int, pairs: Sequence[tuple[str, int]], *, replace: bool) -> None:
        """One UpdateItem writing several events to the day item; with ``replace``, one more clears its newcomers."""
        numbers = range(len(pairs))
        names = {f"#e{n}": event for n, (event, _) in enumerate(pairs)}
        values = {f":n{n}": count for n, (_, count) in enumerate(pairs)}
        if replace:
            # The set value is the day's whole count: none may stay in the newcomers item. Removed first, so
            # that a hit counted there in between is kept on top of the set value rather than wiped out.
            self._update(newcomers(day), "REMOVE " + ", ".join(names), {**names, "#k": KEY}, {}, "attribute_exists(#k)")
            self._update(day, "SET " + ", ".join(f"#e{n} = :n{n}" for n in numbers), names, values)
            return
        values.update((f":r{n}", MAX_COUNT - count) for n, (_, count) in enumerate(pairs))
        fits = " AND ".join(f"(attribute_not_exists(#e{n}) OR #e{n} <= :r{n})" for n in numbers)
        if self._update(day, "ADD " + ", ".join(f"#e{n} :n{n}" for n in numbers), names, values, fits) is None:
            raise CounterAtLimit(f"a count of day {day} would pass {MAX_COUNT}, the largest a counter holds")

    def write_many(
        self, rows: Iterable[Write], *, replace: bool = False, done: Callable[[list[int]], None] | None = None
    ) -> None:
        # BatchWriteItem can neither ADD nor touch single attributes (a PutRequest
        # replaces the whole day), so each day gets UpdateItem calls that carry up
        # to EVENTS_PER_UPDATE of its events. The rows are read a WINDOW at a time;
        # the days of a window go in parallel, the calls of one day in turn (they
        # update the same item), and a window ends before the next one starts.
        report = threading.Lock()
        stop = threading.Event()
        source, offset = iter(rows), 0

        def write_day(window: list[Write], day: int, indices: list[int]) -> None:
            for start in range(0, len(indices), EVENTS_PER_UPDATE):
                if stop.is_set():
                    return
                chunk = indices[start : start + EVENTS_PER_UPDATE]
                self._write_events(day, [window[i - offset][1:] for i in chunk], replace=replace)
                if done:
                    with report:
                        done(chunk)

        with ThreadPoolExecutor(WORKERS) as pool:
            while window := list(itertools.islice(source, WINDOW)):
                by_day: dict[int, list[int]] = {}
                for index, (day, _, _) in enumerate(window, offset):
                    by_day.setdefault(day, []).append(index)
                futures = [pool.submit(write_day, window, day, indices) for day, indices in by_day.items()]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    # Stop sending; the writes already confirmed were reported, so a rerun can skip them.
                    stop.set()
                    for future in futures:
                        future.cancel()
                    raise
                offset += len(window)

    def dump(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, dict[str, int]]]:
        # A Scan returns items in the order of their keys' hashes. To export in day order without
        # holding every item, scan the keys alone, sort them (one number a day), then read the days
        # in order through get(), 100 a batch, which also merges what get() merges.
        low, high = first or FIRST_DAY, last or LAST_DAY
        found: set[int] = set()
        start: dict[str, Any] = {}
        while True:
            with self._errors():  # through _call: a throttled page is asked for again, as a Scan changes nothing
                page = self._call("scan", TableName=self.table, ConsistentRead=True, ProjectionExpression="#d",
                                  ExpressionAttributeNames={"#d": KEY}, **start)
            for item in page["Items"]:
                day = abs(int(item[KEY]["N"]))  # -yyyyMMdd is a part of day yyyyMMdd
                if low <= day <= high:
                    found.add(day)
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        ordered = sorted(found)
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            counts = self.get(batch)
            yield from ((day, counts[day]) for day in batch if counts.get(day))

    def imported(self, digest: str) -> str | None:
        name = _file(digest)
        return self._get_item(IMPORTS, name).get(name, {}).get("S")

    def record_import(self, digest: str, when: str) -> None:
        with self._errors():
            self._call(
                "update_item", TableName=self.table, Key={KEY: {"N": str(IMPORTS)}}, UpdateExpression="SET #f = :when",
                ExpressionAttributeNames={"#f": _file(digest)}, ExpressionAttributeValues={":when": {"S": when}},
            )

    item_bytes = dynamodb_imports.ITEM_BYTES
    row_bytes = staticmethod(dynamodb_imports.row_bytes)
    in_flight = WORKERS * EVENTS_PER_UPDATE  # the calls write_many has sent, each with up to that many rows

    def take_lease(self, lease: Lease, *, now: float, until: float, dead: str | None = None) -> str | None:
        return dynamodb_imports.take(self, lease, now=now, until=until, dead=dead)

    def drop_lease(self, lease: Lease) -> None:
        dynamodb_imports.drop(self, lease)

    def get(self, days: Sequence[int]) -> Counts:
        unique = [day for day in dict.fromkeys(days) if FIRST_DAY <= day <= LAST_DAY]  # no bookkeeping item
        keys = [{KEY: {"N": str(key)}} for day in unique for key in (day, newcomers(day))]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_SIZE):
            items.extend(self._batch_get(keys[start : start + BATCH_SIZE]))
        return merge(items)

    def _batch_get(self, keys: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
        """The items at ``keys`` (only the attributes ``names``, if given), read consistently."""
        items: list[dict[str, Any]] = []
        request = {self.table: {"Keys": keys, "ConsistentRead": True, **_projection(names)}}
        for attempt in range(BATCH_ATTEMPTS):
            with self._errors():
                reply = self._call("batch_get_item", RequestItems=request)
            items.extend(reply.get("Responses", {}).get(self.table, []))
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return items
            self._sleep(0.05 * 2**attempt)
        raise StoreUnavailable("DynamoDB left keys unprocessed after retries", transient=True)

    def check(self) -> None:
        # Sent once (no resend on a failed connection): a health check is one cheap read, 0.5 RCU.
        with self._errors():
            self.client.get_item(TableName=self.table, Key={KEY: {"N": str(HEALTH_KEY)}})

    def create(self) -> str:
        done = [*self._create_table(self.table, KEY, "N"), *self._create_table(self.ids_table, ID, "S")]
        done.append(self._expire_ids())
        return "DynamoDB: " + "; ".join(done) + "."

    def _create_table(self, name: str, key: str, kind: str) -> list[str]:
        """Create table ``name`` keyed by ``key`` of type ``kind`` if missing, protected; say what was done."""
        done = []
        with self._errors(name):
            try:
                self.client.create_table(
                    TableName=name,
                    KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}],
                    BillingMode="PAY_PER_REQUEST",
                    DeletionProtectionEnabled=True,
                )
                done.append(f"created table {name} (PAY_PER_REQUEST, deletion protection on)")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceInUseException":
                    raise
                done.append(f"table {name} already exists")
            self.client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
            done.append(f"{name} is ACTIVE")
            try:
                self.client.update_continuous_backups(
                    TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
                done.append(f"point-in-time recovery is on for {name}")
            except ClientError as exc:
                if not _unsupported(exc):
                    raise
                done.append(f"point-in-time recovery not set for {name}: this endpoint does not support it")
        return done

    def _expire_ids(self) -> str:
        """Turn on TTL over the ids table's ``expires``, unless it is on already; say what was done."""
        with self._errors(self.ids_table):
            try:
                ttl = self.client.describe_time_to_live(TableName=self.ids_table)["TimeToLiveDescription"]
                if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == EXPIRES:
                    return f"ids in {self.ids_table} already expire through TTL on {EXPIRES}"
                self.client.update_time_to_live(
                    TableName=self.ids_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRES}
                )
            except ClientError as exc:
                if not _unsupported(exc):
                    raise
                return f"TTL not set for {self.ids_table}: this endpoint does not support it"
        return f"ids in {self.ids_table} expire through TTL on {EXPIRES}"


class _Duplicate(Exception):
    """The increment's id is recorded, unexpired: it was applied, and nothing more is added."""


def _value(reply: dict[str, Any], event: str) -> int:
    return _number(reply["Attributes"], event)


def _number(item: dict[str, Any], name: str) -> int:
    """The number ``name`` of an item, 0 if the item lacks it."""
    return int(item.get(name, {}).get("N", 0))


def _projection(names: Sequence[str]) -> dict[str, Any]:
    """A read's options for only the attributes ``names`` (every attribute if none)."""
    if not names:
        return {}
    return {"ProjectionExpression": ", ".join(f"#a{n}" for n in range(len(names))),
            "ExpressionAttributeNames": {f"#a{n}": name for n, name in enumerate(names)}}


def _too_large(error: dict[str, Any]) -> bool:
    """Whether an error (or a transaction's cancellation reason) says an item would pass DynamoDB's size limit."""
    too_large = "size" in error.get("Message", "").lower()
    return too_large and error.get("Code") in ("ValidationException", "ValidationError")


def _unsupported(exc: ClientError) -> bool:
    """Whether the endpoint lacks the operation: local stand-ins such as dynalite lack PITR and TTL.

    Anything else (AccessDenied, a validation error) is a failure.
    """
    return exc.response["Error"]["Code"] == "UnknownOperationException"


def _unapplied(exc: ClientError) -> bool:
    """Whether DynamoDB refused a call before applying any of it, so that sending it again is safe."""
    code = exc.response.get("Error", {}).get("Code")
    reasons = {reason.get("Code") for reason in exc.response.get("CancellationReasons", [])} - {"None", None}
    if code == "TransactionCanceledException":
        return bool(reasons) and reasons <= UNAPPLIED_REASONS
    return code in UNAPPLIED


def _file(digest: str) -> str:
    """The attribute of the imports item for a file: lower case, like all bookkeeping, never an event's name."""
    return f"sha256:{digest}"
