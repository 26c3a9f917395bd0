"""Lambda SnapStart: the work done before the snapshot, and what a restored copy must not keep from it.

Lambda runs a SnapStart function's initialisation once per published version, snapshots the process, and
starts every new execution environment from a copy of that snapshot. So the snapshot should hold everything
the first counting request would otherwise build, and nothing that must differ between copies or goes stale.
The hooks register only when Lambda says the function is SnapStart's (``AWS_LAMBDA_INITIALIZATION_TYPE``),
with ``snapshot_restore_py``, which Lambda's Python runtimes provide.
"""

from __future__ import annotations

import gc
import os
import random

from flask import Flask

from . import agents, secret_token, visitors
from .store import get_store

SNAP_START = "snap-start"
# A person's browser, so the bot check runs its regular expressions to the end while they are compiled.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def before_snapshot(app: Flask) -> None:
    """Build what a counting request needs, without a call to the store, then leave the heap settled.

    The store's client is built (no connection: none is opened before a call), crawlerdetect's patterns are
    compiled, and a ``HEAD /?e=...`` of an accepted name runs the counting route through parsing, the policy
    and every reply hook without counting (a HEAD is never counted), importing whatever those load on first use.
    """
    with app.app_context():
        get_store().before_snapshot()
    agents.is_bot(BROWSER)
    event = min(app.config["EVENTS"] or {"SNAPSHOT"})
    with app.test_client() as client:
        client.head(f"/?e={event}", headers={"User-Agent": BROWSER})
    secret_token.forget(app)  # a token read above must not live in every copy of the snapshot
    gc.collect()
    gc.freeze()  # what init built lives as long as the process: the collector need not scan it again


def after_restore(app: Flask) -> None:
    """Give this copy of the snapshot its own random state, no connection or cached read from before it, and the
    read token as it is now (when it lives in SSM or Secrets Manager)."""
    random.seed()  # from os.urandom: copies of one snapshot would otherwise draw the same numbers
    visitors.forget(app)  # a salt cached before the snapshot may be a day that has ended: ask the store again
    with app.app_context():
        get_store().after_restore()
    secret_token.reread(app)


def init_app(app: Flask) -> None:
    """Register the hooks when Lambda initialises the function for a SnapStart snapshot."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAP_START:
        return
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot, app)
    register_after_restore(after_restore, app)
