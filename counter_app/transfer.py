"""Move counts between stores: export to CSV or JSON, import from them, with the CLI commands."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
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
from .lease import Held, held
from .reader import Checked, Rejected
from .storage import CounterAtLimit, Storage, StoreUnavailable, TooManyEvents
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
    # The first row, or the store's refusal, before a header: a failed export to stdout prints only the error.
    found = itertools.chain([head] if (head := next(found, None)) else [], found)
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
    """Standard output for ``-``; a regular file (or a new one) that appears complete or not at all; else as it is.

    Rows stream out as the store gives them, so a failure midway would leave a file that ends early,
    and a CSV cut after a whole row imports as if it were whole: write beside it, then rename. A FIFO,
    a device or a terminal must stay what it is, so it is written to directly.
    """
    if path == "-":
        yield sys.stdout
        return
    target = replaceable(path)
    if target is None:
        with open(path, "w", encoding="utf-8", newline="") as file:
            yield file
        return
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            yield file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def replaceable(path: str) -> Path | None:
    """The regular file an export may write beside and rename onto (through a symbolic link, the file it points
    to), or ``None`` for anything else there, such as a FIFO or a device, which must be written to as it is."""
    try:
        mode = os.stat(path).st_mode  # through links
    except FileNotFoundError:
        mode = stat.S_IFREG  # a new file
    return Path(os.path.realpath(path)) if stat.S_ISREG(mode) else None


def store_key(digest: str) -> str:
    """A hash of the file (its SHA-256) and the store it goes to: a journal resumes only that pair."""
    config = current_app.config
    target = ["positions", str(config["STORE"]), table_name(config)]  # journals count rows, no longer lines
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
    except OSError as exc:
        raise click.ClickException(f"Nothing was exported: {path} cannot be written ({exc.strerror}).") from None
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
            with held(store, checked.digest) as mine:  # also proves the store answers before anything is written
                skipped = importing(file, checked, store, mine, replace=replace, again=again)
        except StoreUnavailable as exc:
            raise click.ClickException(f"Nothing was written: the store is unavailable: {exc}.") from None
    click.echo(f"{'Set' if replace else 'Added'} {rows(checked.count - skipped)}.", err=True)


def importing(file: Path, checked: Checked, store: Storage, mine: Held, *, replace: bool, again: bool) -> int:
    """Write the checked rows of ``file`` while this run holds it; how many rows earlier runs had written."""
    # Read under the lease: a run that completed while this one waited for it has recorded the file.
    earlier = store.imported(checked.digest)
    if earlier and checked.count and not (again or replace):
        raise click.ClickException(
            f"Nothing was written: {file} was imported in full into this store on {earlier}, and importing it "
            "again would add its counts twice (give --again to do that)."
        )
    too_big = checked.heavy_day(store.item_bytes, store.row_bytes)
    if too_big:
        day, names, size = too_big
        raise click.ClickException(
            f"Nothing was written: day {day} has {names:,} events, which need {size:,} bytes in one item of this "
            f"store, more than the {store.item_bytes:,} it holds; no run can import this file."
        )
    journal = open_journal(file, checked, store, replace=replace)
    if journal.skipped:
        were = "was" if journal.skipped == 1 else "were"
        click.echo(f"Resuming: {rows(journal.skipped)} {were} written by an earlier run.", err=True)
    if journal.killed:
        click.echo(f"The earlier run was killed while writing: up to {rows(store.in_flight)} it had sent may "
                   "have been added without being recorded, and are added again (docs/transfer.md).", err=True)
    click.echo(f"Importing into {store.where()}.", err=True)
    keep = {"lease": mine.lease} if store.keeps_progress and not replace else {}
    with click.progressbar(length=checked.count - journal.skipped, label="Importing", show_pos=True,
                           file=sys.stderr) as bar:

        def confirmed(indices: list[int]) -> None:
            journal.confirm(indices)
            bar.update(len(indices))
            mine.check()

        todo = journal.rows(checked.rows(journal.through))
        try:
            store.write_many(todo, replace=replace, done=confirmed, **keep)
            if checked.count:
                when = days.now().astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                store.record_import(checked.digest, when)
        except (StoreUnavailable, TooManyEvents, KeyboardInterrupt) as exc:
            raise stopped(exc, journal, replace=replace) from None
        finally:
            todo.close()  # the staged rows' cursor, before the staging database closes
            journal.close()
    journal.finish()
    return journal.skipped


def open_journal(file: Path, checked: Checked, store: Storage, *, replace: bool) -> Journal:
    """Where this import's progress is kept: in the store if it can, else in ``FILE.progress``, checked writable."""
    if replace:
        return Journal(None, "")
    if store.keeps_progress:
        return Journal(None, "", through=store.progress(checked.digest))
    path = file.with_name(file.name + ".progress")
    try:
        return Journal(path, store_key(checked.digest))
    except OSError as exc:
        raise click.ClickException(
            f"Nothing was written: {path}, where this import records its progress so that a rerun resumes, "
            f"cannot be written ({exc.strerror}): import a copy of the file from a folder you can write to, under a "
            "shorter name."
        ) from None


def stopped(exc: BaseException, journal: Journal, *, replace: bool) -> click.ClickException:
    """The one sentence for an import that stopped midway: what is written, and whether a rerun can help."""
    done = journal.skipped + journal.confirmed
    written = f"{rows(done)} {'is' if done == 1 else 'are'} written"
    if isinstance(exc, CounterAtLimit):
        # The row's batch was refused whole: a rolled back chunk on SQLite, one refused UpdateItem on DynamoDB.
        return click.ClickException(
            f"Stopped ({exc}): no counter holds more, so this file cannot be imported in full. {written}, and "
            "the rest are not: the batch that holds that row was rolled back whole."
        )
    if isinstance(exc, TooManyEvents):
        return click.ClickException(
            f"Stopped ({exc}): the day's events take more room than the store has, so a rerun would stop at the "
            f"same place. {written}, and the rest are not."
        )
    how = "run the same command again"
    if not replace:
        how += f" to write the rest ({journal.path or 'the store'} remembers the {rows(done)} written)"
    return click.ClickException(f"Stopped ({str(exc) or 'interrupted'}): {how}.")


def init_app(app: Flask) -> None:
    """Register ``flask export`` and ``flask import``."""
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
