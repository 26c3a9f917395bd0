"""The app's one store: made at start-up, connected on first use."""

from __future__ import annotations

import re

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import days
from .storage import Storage, StoreUnavailable, storage_from_url
from .storage.base import IDEMPOTENT_WRITES

TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")  # DynamoDB's rule for table names
IDS_TABLE = "counter_ids"  # idempotency keys: <TABLE_PREFIX>_counter_ids
SALTS_TABLE = "counter_salts"  # the days' visitor salts: <TABLE_PREFIX>_counter_salts, kept out of backups


def table_name(config: dict, table: str | None = None) -> str:
    """``<TABLE_PREFIX>_<TABLE>``, such as ``TEST_counters``, or ``<TABLE_PREFIX>_<table>`` if given.

    :raises ValueError: naming the settings it comes from, if the name is not one DynamoDB accepts.
    """
    name = f"{config['TABLE_PREFIX']}_{table or config['TABLE']}"
    if not TABLE_NAME.fullmatch(name):
        settings = "COUNTER_TABLE_PREFIX makes" if table else "COUNTER_TABLE_PREFIX and COUNTER_TABLE make"
        raise ValueError(
            f"{settings} the table name {name[:80]!r}, which must be 3 to 255 characters of A-Z a-z 0-9 _ . -"
        )
    return name


def get_store() -> Storage:
    """The current app's store."""
    return current_app.extensions["counter.store"]


@click.command("create-table")
@with_appcontext
def create_table_command() -> None:
    """Create the store's table if it is missing."""
    try:
        click.echo(get_store().create())
    except StoreUnavailable as exc:
        raise click.ClickException(f"The table was not made ready: {exc}.") from None


def init_app(app: Flask) -> None:
    """Build the store named by ``STORE`` and register its CLI command."""
    options = {"table": table_name(app.config), "ids_table": table_name(app.config, IDS_TABLE),
               "salts_table": table_name(app.config, SALTS_TABLE)}
    writes = app.config["IDEMPOTENT_WRITES"]
    if writes not in IDEMPOTENT_WRITES:
        choices = ", ".join(IDEMPOTENT_WRITES)
        raise ValueError(f"COUNTER_IDEMPOTENT_WRITES={str(writes)[:40]!r} must be one of: {choices}")
    if str(app.config["STORE"]).startswith("dynamodb:"):  # SQLite has one way: a local transaction
        options["writes"] = writes
    store = storage_from_url(app.config["STORE"], **options)
    if hasattr(store, "today"):  # DynamoDB: a day that has not begun takes only the names claimed in it
        store.today = lambda: days.to_int(days.today())
    app.extensions["counter.store"] = store
    app.cli.add_command(create_table_command)
    context = click.get_current_context(silent=True)
    if context is not None and context.info_name == "run":  # flask run: where the counts go, before any is counted
        click.echo(f" * Counting into {app.extensions['counter.store'].where()}", err=True)
