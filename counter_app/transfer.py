"""Move counts between stores: export to CSV or JSON, import from them, with the CLI commands."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path
from typing import TextIO

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import days, totals
from .journal import Journal
from .reader import Checked, Rejected
from .storage import CounterAtLimit, StoreUnavailable, TooManyEvents
from .store import get_store, table_name


def rows(count: int) -> str:
    """``1 row``, ``12,345 rows``."""
    return f"{count:,} row{'' if count == 1 else 's'}"


def export(out: TextIO, fmt: str = "csv", first: int | None = None, last: int | None = None) -> int:
    """Write the store's counts from ``first`` to ``last`` (open ends: everything) as they are read; the row count."""
    found = totals.flatten(get_store().dump(first, last))
    header = totals.CSV_HEADER
    if totals.visitors_on():
        found, header = totals.with_visitors(found), (*header, totals.VISITORS)
    if fmt != "json":
        return totals.write_csv(out, found, header)
    # A JSON array with one row per line: valid JSON, and diffable like the CSV.
    out.write("[\n")
    written = 0
    for written, row in enumerate(found, 1):
        out.write(("" if written == 1 else ",\n") + json.dumps(dict(zip(header, row))))
    out.write("\n]\n")
    return written


@contextmanager
def output(path: str) -> Iterator[TextIO]:
    """Standard output for ``-``; else a file that appears complete or not at all.

    Rows stream out as the store gives them, so a failure midway would leave a file that ends early,
    and a CSV cut after a whole row imports as if it were whole: write beside it, then rename.
    """
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            yield file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def store_key(digest: str) -> str:
    """A hash of the file (its SHA-256) and the store it goes to: a journal resumes only that pair."""
    config = current_app.config
    target = [str(config["STORE"]), table_name(config)]
    target += [os.environ.get(name, "") for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_REGION",
                                                     "AWS_DEFAULT_REGION")]
    return hashlib.sha256("\0".join([digest, *target]).encode()).hexdigest()


@click.command("export")
@click.option("--from", "first", metavar="YYYYMMDD", help="first day (default: the oldest stored)")
@click.option("--to", "last", metavar="YYYYMMDD", help="last day (default: the newest stored)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "path", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-",
              help="file (default: stdout)")
@with_appcontext
def export_command(first: str | None, last: str | None, fmt: str, path: str) -> None:
    """Write every stored count, or those of a range, as CSV or JSON."""
    bounds = []
    for name, value in (("--from", first), ("--to", last)):
        try:
            bounds.append(None if value is None else days.to_int(days.parse(value, name)))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    if None not in bounds and bounds[0] > bounds[1]:
        raise click.BadParameter(f"'--from' {first} is after '--to' {last}: nothing could be exported.")
    try:
        with output(path) as out:
            count = export(out, fmt, *bounds)
    except StoreUnavailable as exc:
        raise click.ClickException(f"The store is unavailable: {exc}.") from None
    click.echo(f"Exported {rows(count)}.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="set the counts instead of adding them")
@click.option("--again", is_flag=True, help="add the counts of a file already imported in full into this store")
@with_appcontext
def import_command(file: Path, replace: bool, again: bool) -> None:
    """Add the counts of a CSV or JSON export to the store (or with --replace, set them)."""
    with file.open("rb") as handle:
        try:
            checked = Checked(handle)
        except Rejected as exc:
            for line in exc.problems.lines(str(file)):
                click.echo(line, err=True)
            raise click.ClickException(exc.problems.summary()) from None
    with checked:
        store = get_store()
        try:
            earlier = store.imported(checked.digest)  # also proves the store answers before anything is written
        except StoreUnavailable as exc:
            raise click.ClickException(f"Nothing was written: the store is unavailable: {exc}.") from None
        if earlier and checked.count and not (again or replace):
            raise click.ClickException(
                f"Nothing was written: {file} was imported in full into this store on {earlier}, and importing it "
                "again would add its counts twice (give --again to do that)."
            )
        journal = Journal(file.with_name(file.name + ".progress"), store_key(checked.digest), record=not replace)
        skipped = checked.count - checked.count_after(journal.through) + len(journal.done)
        if skipped:
            click.echo(f"Resuming: {rows(skipped)} were written by an earlier run.", err=True)
        with click.progressbar(length=checked.count - skipped, label="Importing", show_pos=True,
                               file=sys.stderr) as bar:

            def confirmed(indices: list[int]) -> None:
                journal.confirm(indices)
                bar.update(len(indices))

            todo = journal.rows(checked.rows(journal.through))
            try:
                store.write_many(todo, replace=replace, done=confirmed)
                if checked.count:
                    when = days.now().astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                    store.record_import(checked.digest, when)
            except CounterAtLimit as exc:
                raise click.ClickException(
                    f"Stopped ({exc}): no counter holds more, so this file cannot be imported in full; "
                    "the rows before that one are written."
                ) from None
            except (StoreUnavailable, TooManyEvents, KeyboardInterrupt) as exc:
                how = "run the same command again"
                how += "" if replace else f" to write the rest ({journal.path} remembers)"
                raise click.ClickException(f"Stopped ({str(exc) or 'interrupted'}): {how}.") from None
            finally:
                todo.close()  # the staged rows' cursor, before the staging database closes
                journal.close()
    journal.finish()
    click.echo(f"{'Set' if replace else 'Added'} {rows(checked.count - skipped)}.", err=True)


def init_app(app: Flask) -> None:
    """Register ``flask export`` and ``flask import``."""
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
