"""A DynamoDB stand-in that refuses what DynamoDB refuses under transaction contention, on 127.0.0.1.

moto applies requests one at a time, so no transaction there ever meets another. DynamoDB does not: a
``TransactWriteItems`` holds the items it touches while it runs, and meanwhile ("Transaction conflict handling
in DynamoDB", in the Developer Guide's "Amazon DynamoDB Transactions: How it works",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling;
and https://repost.aws/knowledge-center/dynamodb-transactwriteitems):

- another ``TransactWriteItems`` touching one of those items is cancelled: ``TransactionCanceledException``
  with a ``CancellationReasons`` entry per item, in request order, ``TransactionConflict`` for each held item and
  ``None`` for the others;
- a ``PutItem``, ``UpdateItem`` or ``DeleteItem`` on one of them is refused with ``TransactionConflictException``.

Both are HTTP 400 with DynamoDB's JSON error body. Their shapes are botocore's service model
(botocore/data/dynamodb/2012-08-10/service-2.json: ``TransactionCanceledException`` has ``Message`` and
``CancellationReasons``, a list of ``{Item, Code, Message}``; ``TransactionConflictException`` has ``message``);
botocore names the error from ``__type`` (botocore/parsers.py, ``BaseJSONParser._do_error_parse``) and merges the
modeled fields into ``ClientError.response`` (botocore/endpoint.py, ``_add_modeled_error_fields``), so callers read
``exc.response["CancellationReasons"]``. The messages are the ones the SDKs document for these codes ("Transaction
is ongoing for the item"; "Transaction cancelled, please refer cancellation reasons for specific reasons [...]").

The model: a transaction holds its items from the moment it arrives until moto has answered it and ``hold``
seconds (20 ms by default) have passed, whichever is later; the one that comes second is refused, the holder goes
on; a cancelled transaction holds nothing. Everything else (reads, ``TransactGetItems``, ``BatchWriteItem``,
streams) goes to moto untouched and is neither held nor refused.

moto's ``ConsumedCapacity`` is no measure: moto 5.2 gives a constant whatever the item's size (1.0 for a
``PutItem`` or ``DeleteItem``, 0.5 for a ``GetItem``) and an empty list for a ``TransactWriteItems``
(moto/dynamodb/responses.py, ``include_consumed_capacity`` and ``transact_write_items``). So
:attr:`Contention.calls` counts each operation by outcome, and :attr:`Contention.units` adds up the write units
of the writes that were applied, by DynamoDB's billing rules for items of up to 1 KB: 1 for a ``PutItem``,
``UpdateItem`` or ``DeleteItem``, 2 for each action of a ``TransactWriteItems`` ("Capacity management for
transactions" in the page above: every item is written twice, to prepare and to commit). Refused, cancelled and
failed writes are in ``calls`` only.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from tests.moto_server import MotoServer

PREFIX = "com.amazonaws.dynamodb.v20120810#"
ONGOING = "Transaction is ongoing for the item"
PLAIN_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
# Write units of an applied write of items of up to 1 KB, from its request.
BILLED: dict[str, Callable[[dict[str, Any]], int]] = {
    **{name: lambda request: 1 for name in PLAIN_WRITES},
    "TransactWriteItems": lambda request: 2 * len(request["TransactItems"]),
}
Key = tuple[str, str]  # (table, the item's key as canonical JSON)


class Contention:
    """A DynamoDB endpoint (``endpoint``) in front of moto at ``upstream``, refusing as DynamoDB does under contention.

    :param hold: the seconds a transaction holds its items at least.
    ``calls`` counts ``(operation, outcome)``: ``"ok"``, ``"conflict"`` (refused here), or moto's error code;
    ``units`` the write units of applied writes, by operation.
    """

    def __init__(self, upstream: str, hold: float = 0.02) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.hold = hold
        self.calls: Counter[tuple[str, str]] = Counter()
        self.units: Counter[str] = Counter()
        self.upstream_pid: int | None = None  # moto's process, when this stand-in started it
        self._held: set[Key] = set()
        self._schemas: dict[str, list[str]] = {}  # table -> its key's attribute names
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def holding(self) -> int:
        """How many items transactions hold right now."""
        with self._lock:
            return len(self._held)

    def count(self, operation: str, outcome: str = "ok") -> int:
        """How many ``operation`` calls ended with ``outcome``."""
        return self.calls[operation, outcome]

    def answer(self, operation: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and body DynamoDB would give ``operation`` with ``body`` now."""
        request = json.loads(body or b"{}")
        if operation == "TransactWriteItems":
            return self._transact(request, body, headers)
        if operation in PLAIN_WRITES:
            key = self._key(request["TableName"], request.get("Key") or request["Item"], headers)
            with self._lock:
                held = key in self._held
            if held:
                return self._refuse(operation, "TransactionConflictException", {"message": ONGOING})
        return self._forward(operation, body, headers)

    def _transact(self, request: dict[str, Any], body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Hold every item of the transaction while moto applies it, or cancel it if one is held already."""
        keys = []
        for entry in request["TransactItems"]:
            (action,) = entry.values()
            keys.append(self._key(action["TableName"], action.get("Key") or action["Item"], headers))
        started = time.monotonic()
        with self._lock:
            conflicts = [key in self._held for key in keys]
            if not any(conflicts):
                self._held.update(keys)
        if any(conflicts):
            reasons = [{"Code": "TransactionConflict", "Message": ONGOING} if held else {"Code": "None"}
                       for held in conflicts]
            codes = ", ".join(reason["Code"] for reason in reasons)
            return self._refuse("TransactWriteItems", "TransactionCanceledException", {
                "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                "CancellationReasons": reasons})
        try:
            reply = self._forward("TransactWriteItems", body, headers)
            time.sleep(max(0.0, started + self.hold - time.monotonic()))
        finally:
            with self._lock:
                self._held.difference_update(keys)
        return reply

    def _refuse(self, operation: str, code: str, fields: dict[str, Any]) -> tuple[int, bytes]:
        with self._lock:
            self.calls[operation, "conflict"] += 1
        return 400, json.dumps({"__type": PREFIX + code, **fields}).encode()

    def _key(self, table: str, attributes: dict[str, Any], headers: dict[str, str]) -> Key:
        """An item's identity: its table and the key attributes among ``attributes`` (a key, or a whole item)."""
        if table not in self._schemas:
            status, reply = self._forward("DescribeTable", json.dumps({"TableName": table}).encode(), headers,
                                          counted=False)
            schema = json.loads(reply).get("Table", {}).get("KeySchema", []) if status == 200 else []
            self._schemas[table] = [part["AttributeName"] for part in schema]
        names = self._schemas[table] or sorted(attributes)
        return table, json.dumps({name: attributes.get(name) for name in names}, sort_keys=True)

    def _forward(self, operation: str, body: bytes, headers: dict[str, str], counted: bool = True) -> tuple[int, bytes]:
        """Send the call to moto as it came (moto reads the region from its signature) and return moto's answer."""
        connection = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            sent = {**headers, "X-Amz-Target": f"{headers['X-Amz-Target'].split('.')[0]}.{operation}"}
            connection.request("POST", "/", body=body, headers=sent)
            reply = connection.getresponse()
            status, data = reply.status, reply.read()
        finally:
            connection.close()
        if counted:
            outcome = "ok" if status == 200 else _code(data, status)
            with self._lock:
                self.calls[operation, outcome] += 1
                if outcome == "ok" and operation in BILLED:
                    self.units[operation] += BILLED[operation](json.loads(body))
        return status, data


class _Server(ThreadingHTTPServer):
    """Threads that end with the process; a client gone mid-call (a killed worker) is no error of the stand-in."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _code(body: bytes, status: int) -> str:
    """The error code of a reply of moto's: its ``__type`` without the namespace, else the HTTP status."""
    try:
        return json.loads(body).get("__type", str(status)).split("#")[-1]
    except (ValueError, AttributeError):
        return str(status)


def _handler(stand_in: Contention) -> type[BaseHTTPRequestHandler]:
    """A request handler of ``stand_in``: one JSON call in, DynamoDB's answer out, on a kept-alive connection."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # botocore keeps its connections
        # The headers and the body go out in two writes: with Nagle's algorithm the body would wait for the
        # client's delayed ACK of the headers (40 ms on Linux), a latency DynamoDB does not have.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in ("host", "connection", "content-length")}
            operation = headers.get("X-Amz-Target", ".").split(".")[-1]
            status, reply = stand_in.answer(operation, body, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            """Quiet: a bench sends thousands of calls."""

    return Handler


class ContentionStore:
    """A light single-threaded moto (see :func:`tests.moto_server.light_transactions`) behind a :class:`Contention`.

    ``moto`` is the server (to pause it); entering gives the stand-in.
    """

    def __init__(self, hold: float = 0.02) -> None:
        self.moto = MotoServer(light=True)
        self.hold = hold
        self.stand_in: Contention | None = None

    def __enter__(self) -> Contention:
        self.moto.start()
        self.stand_in = Contention(self.moto.endpoint, self.hold).__enter__()
        self.stand_in.upstream_pid = self.moto.process.pid
        return self.stand_in

    def __exit__(self, *exc: object) -> None:
        if self.stand_in:
            self.stand_in.__exit__()
        self.moto.stop()
