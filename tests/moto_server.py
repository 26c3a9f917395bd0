"""moto's DynamoDB served by a single thread on 127.0.0.1: the test store that runs transactions exactly.

dynalite has no TransactWriteItems, and ``moto_server`` serves each request on its own thread, where
concurrent updates are lost. One thread applies requests one at a time, as DynamoDB's own
transactions make them appear.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
from typing import Any

from tests.dynalite import ROOT, LocalServer


class MotoServer(LocalServer):
    """One single-threaded moto process; ``endpoint`` is its URL. ``pause`` and ``resume`` stop and continue it.

    :param light: back up only the items a transaction touches (see :func:`light_transactions`), not its tables.
    """

    startup_timeout = 30.0
    stderr = subprocess.DEVNULL  # werkzeug logs every request there

    def __init__(self, *, light: bool = False) -> None:
        super().__init__(env={"PYTHONPATH": str(ROOT)})
        self.light = light

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.moto_server", str(self.port), *(["--light"] if self.light else [])]

    def pause(self) -> None:
        """SIGSTOP: the server takes connections into its backlog and answers none until resumed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        super().stop()


def light_transactions() -> None:
    """Make moto's ``TransactWriteItems`` back up only the items it touches, where it deep-copies whole tables.

    moto copies every table a transaction touches, to restore it if the transaction is cancelled, so a
    transaction on the ids table slows as the table grows (167 a second at 600 ids, 20 at 3,000). The backup
    here is a shallow copy of the table (its stream's records included) with deep copies of the touched items:
    the same restore, in time that does not grow with the table.
    """
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    touched: list[dict[str, Any]] = []  # the transaction being applied (one thread: one at a time)

    def backup(table: Table) -> Table:
        saved = copy.copy(table)
        saved.items = copy.copy(table.items)
        for entry in touched:
            (operation,) = entry.values()
            if operation.get("TableName") == table.name:
                key = DynamoType((operation.get("Key") or operation["Item"])[table.hash_key_attr])
                if key in table.items:
                    saved.items[key] = copy.deepcopy(table.items[key])  # every range item of that hash key
        if table.stream_shard is not None:
            saved.stream_shard = copy.copy(table.stream_shard)
            saved.stream_shard.items = list(table.stream_shard.items)
            saved.stream_shard.table = saved
        return saved

    class Copy:
        """The ``copy`` module as moto's DynamoDB models see it: tables are backed up by :func:`backup`."""

        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(value: Any, memo: dict | None = None) -> Any:
            return backup(value) if isinstance(value, Table) else copy.deepcopy(value, memo)

    transact = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched[:] = transact_items
        try:
            transact(self, transact_items)
        finally:
            touched.clear()

    models.copy = Copy
    models.DynamoDBBackend.transact_write_items = transact_write_items


def serve(port: int, light: bool = False) -> None:
    """Serve every moto backend on ``127.0.0.1:port`` with one thread, as ``moto_server`` would with many.

    :param light: with :func:`light_transactions`.
    """
    if light:
        light_transactions()
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=False,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve(int(sys.argv[1]), light="--light" in sys.argv[2:])
