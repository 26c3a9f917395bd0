"""The DynamoDB store's primitives: its client, one call sent safely, errors in words, and single-item reads and writes.

Everything above them (tables, the write path, bulk writes, reads, the aggregator) is built from these.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as NotConnected

from .. import deadline
from .base import IDEMPOTENT_WRITES, StoreUnavailable, TooManyEvents
from .placement import KEY, Claimed, Views

BATCH_SIZE = 100  # BatchGetItem's limit on keys per call
BATCH_ATTEMPTS = 5
ATTEMPTS = 3  # per call, only when the failure proves the call was not applied
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
# Refused before anything was applied, so sent again: throttling, and an item that a transaction holds.
UNAPPLIED = THROTTLED | {"TransactionConflictException"}
# Why a transaction was cancelled, when none of them means it may succeed if sent again.
UNAPPLIED_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
# Faults that pass on their own, so a client's retry can succeed; AccessDenied or a missing table do not.
TRANSIENT = UNAPPLIED | {"InternalServerError", "ServiceUnavailable"}
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


class DynamoDBCalls:
    """The client and the primitives every part of the DynamoDB store is written in.

    :param table: the counters table, ``<prefix>_counters``.
    :param ids_table: the table of idempotency keys, ``<prefix>_counter_ids``, keyed by ``Id`` (S).
    :param writes: how an idempotent increment is written, one of :data:`.base.IDEMPOTENT_WRITES`.
    """

    def __init__(
        self, url: str, *, table: str = "TEST_counters", ids_table: str = "TEST_counter_ids",
        salts_table: str = "TEST_counter_salts", writes: str = "stream", sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if writes not in IDEMPOTENT_WRITES:
            raise ValueError(f"COUNTER_IDEMPOTENT_WRITES={str(writes)[:40]!r} must be one of: "
                             + ", ".join(IDEMPOTENT_WRITES))
        self.table = table
        self.ids_table = ids_table
        self.salts_table = salts_table
        self.writes = writes
        self._sleep = deadline.paced(sleep, CALL_SECONDS)  # no pause after which the next call would end too late
        self._client: Any = None
        self._lock = threading.Lock()
        self._views = Views()
        self._full: dict[int, set[str]] = {}  # per day, counters near MAX_COUNT when it was last read
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
        self._full = {}

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Send one call, again after a refusal that applied nothing (see :func:`unapplied`) or a failed connection."""
        for attempt in range(ATTEMPTS):
            # A call starts only if it ends, answered or not, before the request's deadline.
            deadline.check(CALL_SECONDS)
            try:
                return getattr(self.client, operation)(**kwargs)
            except ClientError as exc:
                if not unapplied(exc) or attempt == ATTEMPTS - 1:
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

    def _get_item(self, key: int | str, *names: str, table: str | None = None) -> dict[str, Any]:
        """One consistent ``GetItem`` of item ``key`` (only the attributes ``names``, if given); ``{}`` if missing.

        :param table: another table keyed by a string ``Id`` (the ids table); ``key`` is then that string.
        """
        where = {KEY: {"N": str(key)}} if table is None else {ID: {"S": str(key)}}
        with self._errors(table):
            reply = self._call("get_item", TableName=table or self.table, Key=where, ConsistentRead=True,
                               **projection(names))
        return reply.get("Item", {})

    def _batch_get(self, keys: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
        """The items at ``keys`` (only the attributes ``names``, if given), read consistently."""
        items: list[dict[str, Any]] = []
        request = {self.table: {"Keys": keys, "ConsistentRead": True, **projection(names)}}
        for attempt in range(BATCH_ATTEMPTS):
            with self._errors():
                reply = self._call("batch_get_item", RequestItems=request)
            items.extend(reply.get("Responses", {}).get(self.table, []))
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return items
            self._sleep(0.05 * 2**attempt)
        raise StoreUnavailable("DynamoDB left keys unprocessed after retries", transient=True)

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
                if too_large(error):
                    raise TooManyEvents(f"item {key} reached DynamoDB's item size limit") from exc
                raise


def number(item: dict[str, Any], name: str) -> int:
    """The number ``name`` of an item, 0 if the item lacks it."""
    return int(item.get(name, {}).get("N", 0))


def projection(names: Sequence[str]) -> dict[str, Any]:
    """A read's options for only the attributes ``names`` (every attribute if none)."""
    if not names:
        return {}
    return {"ProjectionExpression": ", ".join(f"#a{n}" for n in range(len(names))),
            "ExpressionAttributeNames": {f"#a{n}": name for n, name in enumerate(names)}}


def too_large(error: dict[str, Any]) -> bool:
    """Whether an error (or a transaction's cancellation reason) says an item would pass DynamoDB's size limit."""
    too_large = "size" in error.get("Message", "").lower()
    return too_large and error.get("Code") in ("ValidationException", "ValidationError")


def unsupported(exc: ClientError) -> bool:
    """Whether the endpoint lacks the operation: local stand-ins such as dynalite lack PITR and TTL.

    Anything else (AccessDenied, a validation error) is a failure.
    """
    return exc.response["Error"]["Code"] == "UnknownOperationException"


def unapplied(exc: ClientError) -> bool:
    """Whether DynamoDB refused a call before applying any of it, so that sending it again is safe."""
    code = exc.response.get("Error", {}).get("Code")
    reasons = {reason.get("Code") for reason in exc.response.get("CancellationReasons", [])} - {"None", None}
    if code == "TransactionCanceledException":
        return bool(reasons) and reasons <= UNAPPLIED_REASONS
    return code in UNAPPLIED


def cancellation(exc: ClientError) -> list[str | None]:
    """The codes of a cancelled transaction's reasons, one per item in order; ``[]`` for any other error."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
