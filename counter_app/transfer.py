"""Move counts between stores: export to CSV or JSON, import from them, with the CLI commands."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.exceptions import BadRequest

from . import days, params, totals
from .storage import MAX_COUNT, StoreUnavailable, TooManyEvents
from .store import get_store, table_name

MAX_REPORTED = 20
_COUNT = re.compile(r"[0-9]{1,19}")
_BLANK = re.compile(r"[ \t\n\r]*")
_OBJECT = 'each row must be an object with exactly "day", "event" and "count".'
_COUNT_RULE = f"'count' must be a whole number from 0 to {MAX_COUNT}."


class Row(NamedTuple):
    """One validated row of an import file."""

    line: int
    day: int
    event: str
    count: int


class Rejected(ValueError):
    """The file has bad rows; nothing was written.

    :param problems: ``(line, sentence)`` pairs, in file order.
    """

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} bad row(s)")
        self.problems = problems


def export(out: TextIO, fmt: str = "csv", first: int | None = None, last: int | None = None) -> int:
    """Write the store's counts from ``first`` to ``last`` (open ends: everything); return the row count."""
    rows = list(totals.flatten(get_store().dump(first, last)))
    if fmt == "json":
        # A JSON array with one row per line: valid JSON, and diffable like the CSV.
        out.write("[\n" + ",\n".join(json.dumps({"day": d, "event": e, "count": n}) for d, e, n in rows) + "\n]\n")
    else:
        totals.write_csv(out, rows)
    return len(rows)


def read(data: bytes) -> list[Row]:
    """Parse and validate a whole CSV or JSON export; JSON is recognised by its leading ``[``.

    :raises Rejected: listing every bad row with its line number.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Rejected([(data.count(b"\n", 0, exc.start) + 1, "the file is not UTF-8 text.")]) from None
    raw = _json_rows(text) if text.lstrip().startswith("[") else _csv_rows(text)
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], int] = {}
    try:
        for line, values in raw:
            try:
                row = _row(line, values)
            except ValueError as exc:
                problems.append((line, str(exc)))
                continue
            key = (row.day, row.event)
            if key in seen:
                problems.append((line, f"{row.day},{row.event} already appears on line {seen[key]}."))
                continue
            seen[key] = line
            rows.append(row)
    except json.JSONDecodeError as exc:
        problems.append((exc.lineno, f"not valid JSON: {exc.msg}."))
    except RecursionError:
        problems.append((1, "not valid JSON: nested too deeply."))
    if problems:
        raise Rejected(problems)
    return rows


def _csv_rows(text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(totals.CSV_HEADER):
        yield 1, "the header must be day,event,count."
        return
    for fields in reader:
        if fields:
            yield reader.line_num, fields


def _json_rows(text: str) -> Iterator[tuple[int, Any]]:
    # Decode the array one element at a time so that each row keeps its line number.
    decoder = json.JSONDecoder()
    pos = _BLANK.match(text, _BLANK.match(text).end() + 1).end()
    line, counted = 1, 0
    closed = text.startswith("]", pos)
    if closed:
        pos = _BLANK.match(text, pos + 1).end()
    while not closed:
        line, counted = line + text.count("\n", counted, pos), pos
        value, pos = decoder.raw_decode(text, pos)
        yield line, value if isinstance(value, dict) else _OBJECT
        pos = _BLANK.match(text, pos).end()
        if not text.startswith((",", "]"), pos):
            raise json.JSONDecodeError("Expecting ',' or ']'", text, pos)
        closed = text.startswith("]", pos)
        pos = _BLANK.match(text, pos + 1).end()
    if pos < len(text):
        raise json.JSONDecodeError("Extra data after the array", text, pos)


def _row(line: int, values: Any) -> Row:
    if isinstance(values, str):
        raise ValueError(values)
    if isinstance(values, dict):
        if sorted(values) != sorted(totals.CSV_HEADER):
            raise ValueError(_OBJECT)
        day, event, count = (values[k] for k in totals.CSV_HEADER)
    elif isinstance(values, list) and len(values) == 3:
        day, event, count = values
        if not _COUNT.fullmatch(count):
            raise ValueError(_COUNT_RULE)
        count = int(count)
    else:
        raise ValueError("each row must have exactly three fields: day,event,count.")
    try:
        parsed = days.to_int(params.day(day, "day"))
        name = params.event_name(event, "event")
    except BadRequest as exc:
        raise ValueError(exc.description) from None
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise ValueError(_COUNT_RULE)
    return Row(line, parsed, name, count)


class Journal:
    """Which lines of a file an additive import has written, kept in ``<file>.progress``.

    The journal is keyed by a hash of the file and the target store, so it can
    only resume the same file into the same store.
    """

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.done: set[int] = set()
        if path.exists():
            first, *rest = path.read_text().splitlines() or [""]
            if first != f"key {key}":
                raise click.ClickException(
                    f"{path} belongs to another file or store; delete it if that import is finished."
                )
            self.done = {int(n) for part in rest for n in part.split()}

    def open(self) -> TextIO:
        """Open for appending, writing the key first when new."""
        handle = self.path.open("a", encoding="ascii")
        if handle.tell() == 0:
            handle.write(f"key {self.key}\n")
            handle.flush()
        return handle


def store_key(data: bytes) -> str:
    """A hash of the file and the store it goes to."""
    config = current_app.config
    target = [str(config["STORE"]), table_name(config)]
    target += [os.environ.get(name, "") for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_REGION",
                                                     "AWS_DEFAULT_REGION")]
    return hashlib.sha256(data + b"\0" + "\0".join(target).encode()).hexdigest()


def write(rows: list[Row], *, replace: bool, done: Callable[[list[Row]], None]) -> None:
    """Write validated rows to the store, calling ``done`` with each confirmed batch."""
    get_store().write_many(
        [(row.day, row.event, row.count) for row in rows],
        replace=replace,
        done=lambda indices: done([rows[i] for i in indices]),
    )


@click.command("export")
@click.option("--from", "first", metavar="YYYYMMDD", help="first day (default: the oldest stored)")
@click.option("--to", "last", metavar="YYYYMMDD", help="last day (default: the newest stored)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", help="file (default: stdout)")
@with_appcontext
def export_command(first: str | None, last: str | None, fmt: str, output: TextIO) -> None:
    """Write every stored count, or those of a range, as CSV or JSON."""
    bounds = []
    for name, value in (("--from", first), ("--to", last)):
        try:
            bounds.append(None if value is None else days.to_int(days.parse(value, name)))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    try:
        count = export(output, fmt, *bounds)
    except StoreUnavailable as exc:
        raise click.ClickException(f"The store is unavailable: {exc}.") from None
    click.echo(f"Exported {count} rows.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="set the counts instead of adding them")
@with_appcontext
def import_command(file: Path, replace: bool) -> None:
    """Add the counts of a CSV or JSON export to the store (or with --replace, set them)."""
    data = file.read_bytes()
    try:
        rows = read(data)
    except Rejected as exc:
        for line, problem in exc.problems[:MAX_REPORTED]:
            click.echo(f"{file}:{line}: {problem}", err=True)
        if len(exc.problems) > MAX_REPORTED:
            click.echo(f"... and {len(exc.problems) - MAX_REPORTED} more.", err=True)
        raise click.ClickException(f"Nothing was written: {len(exc.problems)} bad row(s).") from None
    journal = Journal(file.with_name(file.name + ".progress"), store_key(data))
    todo = rows if replace else [row for row in rows if row.line not in journal.done]
    if len(todo) < len(rows):
        click.echo(f"Resuming: {len(rows) - len(todo)} rows were written by an earlier run.", err=True)
    with click.progressbar(length=len(todo), label="Importing", show_pos=True) as bar:
        handle = None if replace else journal.open()

        def done(batch: list[Row]) -> None:
            if handle:
                handle.write(" ".join(str(row.line) for row in batch) + "\n")
                handle.flush()
            bar.update(len(batch))

        try:
            write(todo, replace=replace, done=done)
        except (StoreUnavailable, TooManyEvents, KeyboardInterrupt) as exc:
            again = "run the same command again" + ("" if replace else f" to write the rest ({journal.path} remembers)")
            raise click.ClickException(f"Stopped ({str(exc) or 'interrupted'}): {again}.") from None
        finally:
            if handle:
                handle.close()
    journal.path.unlink(missing_ok=True)
    click.echo(f"{'Set' if replace else 'Added'} {len(todo)} rows.", err=True)


def init_app(app: Flask) -> None:
    """Register ``flask export`` and ``flask import``."""
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
