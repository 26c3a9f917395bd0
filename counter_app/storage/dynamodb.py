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

from .base import (
    FIRST_DAY,
    LAST_DAY,
    MAX_COUNT,
    CounterAtLimit,
    Counts,
    Storage,
    StoreUnavailable,
    TooManyEvents,
    Write,
    week_before,
)
from .placement import KEY, Update, Updates, View, Views, merge, newcomers

BATCH_SIZE = 100  # BatchGetItem's limit on keys per call
BATCH_ATTEMPTS = 5
ATTEMPTS = 3  # per call, only when the failure proves the call was not applied
EVENTS_PER_UPDATE = 50  # keeps one UpdateItem's expressions far below DynamoDB's 4 KB limit
WORKERS = 8  # concurrent UpdateItem calls in write_many
WINDOW = 4000  # rows write_many holds at a time: days of a window go in parallel
IMPORTS = 0  # the Day of the item that records imported files: no day is 0
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
# Faults that pass on their own, so a client's retry can succeed; AccessDenied or a missing table do not.
TRANSIENT = THROTTLED | {"InternalServerError", "ServiceUnavailable"}
HEALTH_KEY = 1  # never written: the health check reads it

# botocore's own retries would resend an ADD whose reply timed out, which
# DynamoDB may already have applied, so every call is sent once and _call
# retries only what was not applied. A call takes at most 1 s to connect plus
# 2 s to answer: a slow store is a prompt 503, far inside Lambda's 10 s.
CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 1},
    tcp_keepalive=True,
)


class DynamoDBStorage(Storage):
    """Counters in a DynamoDB table keyed by ``Day`` (N), updated with ``ADD``.

    Endpoint, region and credentials come from boto3's standard environment,
    such as ``AWS_ENDPOINT_URL_DYNAMODB`` and ``AWS_DEFAULT_REGION``.

    :param url: ``dynamodb://``.
    :param table: the table name, ``<prefix>_counters``.
    """

    def __init__(self, url: str, *, table: str = "TEST_counters", sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self._sleep = sleep
        self._client: Any = None
        self._lock = threading.Lock()
        self._views = Views()

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
        """Send one call, again after throttling or a failed connection (neither applied it)."""
        for attempt in range(ATTEMPTS):
            try:
                return getattr(self.client, operation)(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in THROTTLED or attempt == ATTEMPTS - 1:
                    raise
            except NotConnected:
                if attempt == ATTEMPTS - 1:
                    raise
            self._sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            raise StoreUnavailable(self._refused(exc), transient=code in TRANSIENT or status >= 500) from exc
        except NoRegionError as exc:
            raise StoreUnavailable("no AWS region is set: set AWS_DEFAULT_REGION, such as eu-west-1") from exc
        except NoCredentialsError as exc:
            raise StoreUnavailable("no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY") from exc
        except BotoCoreError as exc:
            # A connection that failed or a reply that did not come: the store may be back in a moment.
            lost = isinstance(exc, (NotConnected, HTTPClientError))
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}", transient=lost) from exc

    def _refused(self, exc: ClientError) -> str:
        """What DynamoDB refused, in words that say what to do about it when that is known."""
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        action = f"dynamodb:{exc.operation_name}"
        if code in ("AccessDeniedException", "UnauthorizedOperation"):
            return f"DynamoDB {code}: these credentials may not call {action} on table {self.table}"
        if code == "ResourceNotFoundException":
            return f"DynamoDB {code}: table {self.table} does not exist (flask create-table makes it)"
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
            return f"DynamoDB {code}: the AWS credentials are not valid for {action}"
        return f"DynamoDB {code}"

    def incr(self, day: int, event: str, amount: int = 1, *, max_events: int | None = None) -> int:
        return self._count(Updates(day, event, amount), max_events, self._send)

    def _count(
        self, updates: Updates, max_events: int | None, send: Callable[[Update], dict[str, Any] | None]
    ) -> int:
        """Count one increment in the item its name belongs in: the one place that decides it.

        :param send: applies one :class:`Update` and returns its reply, or ``None`` if its
            condition failed; a caller that must wrap each write (in a transaction) passes its own.
        """
        day, event = updates.day, updates.event
        view = self._views.get(day)
        tried_day = view is None or view.belongs_in_day(event)
        if tried_day:
            # The hot path, and a cold start's first try: one call, no read, for a name the day item holds.
            reply = send(updates.existing(day))
            if reply:
                return _value(reply, event)
            view = view or self._load(day)
        if view.belongs_in_day(event):
            reply = (event not in view.in_day and send(updates.into_day())) or send(updates.existing(day))
            if reply:
                view.in_day.add(event)
                return _value(reply, event)
            if self._holds(day, event):
                raise CounterAtLimit(f"{event} of day {day} is at {MAX_COUNT}")
            view.spilled.add(event)  # the day item's bytes are spent: count it with the newcomers
        return self._count_newcomer(updates, max_events, send, view, tried_day)

    def _count_newcomer(
        self, updates: Updates, max_events: int | None, send: Callable[[Update], dict[str, Any] | None],
        view: View, tried_day: bool,
    ) -> int:
        """Count a name that is not the day item's in the day's newcomers item, while it has room; unknown, in a slot."""
        day, event, key = updates.day, updates.event, newcomers(updates.day)
        known = max_events is None or event in view.known
        if view.refuses(event, max_events, known=known):
            raise TooManyEvents(f"day {day} has no room for another new event")  # no call at all
        take = updates.known_newcomer() if known else updates.unknown_newcomer(max_events)
        # The cheaper guess first; the other covers a writer that put the name in since the view was read.
        first, then = (updates.existing(key), take) if event in view.in_newcomers else (take, updates.existing(key))
        reply = send(first)
        if reply is None and not tried_day:
            # The view may be old: an import can have moved the name to the day item.
            reply = send(updates.existing(day))
            if reply:
                view.in_day.add(event)
                return _value(reply, event)
        reply = reply or send(then)
        if reply is None:
            view.remember(self._get_item(key))  # one read; names that cannot get in are then refused with no call
            if event in view.in_newcomers:
                raise CounterAtLimit(f"{event} of day {day} is at {MAX_COUNT}")
            raise TooManyEvents(f"day {day} has no room for another new event")
        view.in_newcomers.add(event)
        return _value(reply, event)

    def _load(self, day: int) -> View:
        """Read the day's two items and those of the week before (one BatchGetItem) into a fresh view."""
        week = week_before(day)
        keys = [{KEY: {"N": str(key)}} for d in [day, *week] for key in (d, newcomers(d))]
        return self._views.put(day, View.of(day, self._batch_get(keys), week))

    def _get_item(self, key: int, *names: str) -> dict[str, Any]:
        """One consistent ``GetItem`` of item ``key`` (only the attributes ``names``, if given); ``{}`` if missing."""
        options: dict[str, Any] = {}
        if names:
            options["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(names)))
            options["ExpressionAttributeNames"] = {f"#a{n}": name for n, name in enumerate(names)}
        with self._errors():
            reply = self._call("get_item", TableName=self.table, Key={KEY: {"N": str(key)}}, ConsistentRead=True,
                               **options)
        return reply.get("Item", {})

    def _holds(self, day: int, event: str) -> bool:
        """Whether the day item has ``event``: after its conditional updates failed, the counter is at its limit."""
        return event in self._get_item(day, event)

    def _send(self, update: Update) -> dict[str, Any] | None:
        return self._update(update.key, update.expression, update.names, update.values, update.condition)

    def _update(
        self, key: int, expression: str, names: dict[str, str], values: dict[str, int], condition: str | None = None
    ) -> dict[str, Any] | None:
        """One ``UpdateItem`` of item ``key`` returning the new values; ``None`` if ``condition`` failed."""
        options: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        if values:
            options["ExpressionAttributeValues"] = {name: {"N": str(value)} for name, value in values.items()}
        with self._errors():
            try:
                return self._call(
                    "update_item",
                    TableName=self.table,
                    Key={KEY: {"N": str(key)}},
                    UpdateExpression=expression,
                    ExpressionAttributeNames=names,
                    ReturnValues="UPDATED_NEW",
                    **options,
                )
            except ClientError as exc:
                error = exc.response.get("Error", {})
                if error.get("Code") == "ConditionalCheckFailedException":
                    return None
                if error.get("Code") == "ValidationException" and "size" in error.get("Message", "").lower():
                    raise TooManyEvents(f"item {key} reached DynamoDB's item size limit") from exc
                raise

    def set(self, day: int, event: str, count: int) -> None:
        self._write_events(day, [(event, count)], replace=True)

    def _write_events(self, day: int, pairs: Sequence[tuple[str, int]], *, replace: bool) -> None:
        """One UpdateItem writing several events to the day item; with ``replace``, one more clears its newcomers."""
        numbers = range(len(pairs))
        names = {f"#e{n}": event for n, (event, _) in enumerate(pairs)}
        values = {f":n{n}": count for n, (_, count) in enumerate(pairs)}
        if replace:
            self._update(day, "SET " + ", ".join(f"#e{n} = :n{n}" for n in numbers), names, values)
            # The set value is the day's whole count: none may stay in the newcomers item.
            self._update(newcomers(day), "REMOVE " + ", ".join(names), {**names, "#k": KEY}, {}, "attribute_exists(#k)")
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
        # in order through get(), 100 a call, which also merges what get() merges.
        low, high = first or FIRST_DAY, last or LAST_DAY
        found: set[int] = set()
        with self._errors():
            pages = self.client.get_paginator("scan").paginate(
                TableName=self.table, ConsistentRead=True, ProjectionExpression="#d",
                ExpressionAttributeNames={"#d": KEY},
            )
            for page in pages:
                for item in page["Items"]:
                    day = abs(int(item[KEY]["N"]))  # -yyyyMMdd is a part of day yyyyMMdd
                    if low <= day <= high:
                        found.add(day)
        ordered = sorted(found)
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            counts = self.get(batch)
            yield from ((day, counts[day]) for day in batch if counts.get(day))

    def imported(self, digest: str) -> str | None:
        with self._errors():
            item = self._call(
                "get_item", TableName=self.table, Key={KEY: {"N": str(IMPORTS)}}, ConsistentRead=True,
                ProjectionExpression="#f", ExpressionAttributeNames={"#f": _file(digest)},
            ).get("Item", {})
        return item[_file(digest)]["S"] if _file(digest) in item else None

    def record_import(self, digest: str, when: str) -> None:
        with self._errors():
            self._call(
                "update_item", TableName=self.table, Key={KEY: {"N": str(IMPORTS)}}, UpdateExpression="SET #f = :when",
                ExpressionAttributeNames={"#f": _file(digest)}, ExpressionAttributeValues={":when": {"S": when}},
            )

    def get(self, days: Sequence[int]) -> Counts:
        unique = [day for day in dict.fromkeys(days) if FIRST_DAY <= day <= LAST_DAY]  # no bookkeeping item
        keys = [{KEY: {"N": str(key)}} for day in unique for key in (day, newcomers(day))]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_SIZE):
            items.extend(self._batch_get(keys[start : start + BATCH_SIZE]))
        return merge(items)

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request = {self.table: {"Keys": keys, "ConsistentRead": True}}
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
        done = []
        with self._errors():
            try:
                self.client.create_table(
                    TableName=self.table,
                    KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "N"}],
                    BillingMode="PAY_PER_REQUEST",
                    DeletionProtectionEnabled=True,
                )
                done.append(f"created table {self.table} (PAY_PER_REQUEST, deletion protection on)")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceInUseException":
                    raise
                done.append(f"table {self.table} already exists")
            self.client.get_waiter("table_exists").wait(
                TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
            done.append("it is ACTIVE")
            try:
                self.client.update_continuous_backups(
                    TableName=self.table,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
                done.append("point-in-time recovery is on")
            except ClientError as exc:
                # Local stand-ins such as dynalite lack the call; anything else (AccessDenied) is a failure.
                if exc.response["Error"]["Code"] != "UnknownOperationException":
                    raise
                done.append("point-in-time recovery not set: this endpoint does not support it")
        return "DynamoDB: " + "; ".join(done) + "."


def _value(reply: dict[str, Any], event: str) -> int:
    return int(reply["Attributes"][event]["N"])


def _file(digest: str) -> str:
    """The attribute of the imports item for a file: lower case, like all bookkeeping, never an event's name."""
    return f"sha256:{digest}"
