"""One import of a file at a time per store: a lease kept in the store, renewed while the import runs."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import click

from .storage import Lease, Storage, StoreUnavailable

SECONDS = 60.0  # a run that dies holds the file this long at most
RENEW = 10.0  # a running import renews its lease this often


class Held:
    """A lease this run holds, and whether it was lost (the run stalled past it and another took it)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.lost = threading.Event()

    def check(self) -> None:
        """Stop writing if another run took the file over.

        :raises StoreUnavailable: then.
        """
        if self.lost.is_set():
            raise StoreUnavailable("this run stalled for more than a minute, and another run took its import over")


@contextmanager
def held(store: Storage, name: str) -> Iterator[Held]:
    """Hold the import of file ``name`` (its SHA-256) into ``store`` until the block ends.

    :raises click.ClickException: if another run holds it; nothing is written.
    :raises StoreUnavailable: if the store does not answer.
    """
    mine = Held(Lease(name, f"{socket.gethostname()} {os.getpid()} {uuid.uuid4().hex}"))
    holder = store.take_lease(mine.lease, now=time.time(), until=time.time() + SECONDS)
    if holder and _dead(holder):  # a run killed on this machine: no need to wait for its lease to run out
        holder = store.take_lease(mine.lease, now=time.time(), until=time.time() + SECONDS, dead=holder)
    if holder is not None:
        raise click.ClickException(
            "Nothing was written: another run is importing this file into this store; wait for it to end "
            f"(a run killed on another machine gives the file up within {SECONDS:.0f} seconds)."
        )
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(RENEW):
            try:
                if store.take_lease(mine.lease, now=time.time(), until=time.time() + SECONDS) is not None:
                    mine.lost.set()
                    return
            except StoreUnavailable:
                continue  # the lease runs a minute: the next renewal may get through

    thread = threading.Thread(target=renew, name="import-lease", daemon=True)
    thread.start()
    try:
        yield mine
    finally:
        stop.set()
        thread.join()
        try:
            store.drop_lease(mine.lease)
        except StoreUnavailable:
            pass  # it expires on its own


def _dead(holder: str) -> bool:
    """Whether ``holder`` was a process of this machine that no longer runs."""
    host, _, rest = holder.partition(" ")
    pid = rest.partition(" ")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it runs, as another user
    return False
