"""Read an import file in one streaming pass: CSV or a JSON array, every row checked, with its line number.

Memory stays flat whatever the file's size. The file is read in pieces of at most ``PIECE`` bytes that
never span a line break; checked rows go into a temporary SQLite database, whose unique index finds a
(day, event) given twice, and from which the writing pass reads them back in file order.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import functools
import hashlib
import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple

from werkzeug.exceptions import BadRequest

from . import days, params, totals
from .storage import MAX_COUNT

MAX_REPORTED = 20
PIECE = 64 * 1024
MAX_LINE = 1024 * 1024  # a longer CSV line, or JSON row, is a problem, not a reason to hold it all (> 2 * PIECE)
BATCH = 10_000  # rows per write into the staging database, and per read back
_COUNT = re.compile(r"[0-9]{1,19}")
_SOMETHING = re.compile(r"[^ \t\n\r]")
_OBJECT = 'each row must be an object with exactly "day", "event" and "count" (and "visitors", if any row has it).'
_COUNT_RULE = f"'count' must be a whole number from 0 to {MAX_COUNT:,}."
_FIELD_RULE = f"a field is longer than {csv.field_size_limit() // 1024} KiB."
_LINE_RULE = f"the line is longer than {MAX_LINE // 2**20} MiB."
_ROW_RULE = f"a row is longer than {MAX_LINE // 2**20} MiB"
_BREAK_RULE = "a quoted field holds a line break, which no day, event or count may hold."


class Row(NamedTuple):
    """One checked row of an import file: its position among the rows (from 1), and the line it starts on."""

    pos: int
    line: int
    day: int
    event: str
    count: int
    visitors: int | None = None  # files exported before visitors have none


class FileProblem(Exception):
    """Something wrong with the file as a whole, past which no row can be read.

    :param line: where it shows, or 0 when nowhere in particular.
    :param what: the problem as the end of "Nothing was written: ...", such as ``the file is empty``.
    :param detail: the sentence for the ``FILE:LINE:`` line.
    """

    def __init__(self, line: int, what: str, detail: str) -> None:
        super().__init__(what)
        self.line, self.what, self.detail = line, what, detail


class Problems:
    """What is wrong with a file: the first ``MAX_REPORTED`` bad rows by line, how many in all, and a whole-file one."""

    def __init__(self) -> None:
        self.listed: list[tuple[int, str]] = []
        self.bad_rows = 0
        self.file: FileProblem | None = None

    def add(self, line: int, sentence: str) -> None:
        """Count a bad row, and keep it if it is among the first ``MAX_REPORTED`` by line."""
        self.bad_rows += 1
        bisect.insort(self.listed, (line, sentence))
        del self.listed[MAX_REPORTED:]

    def __bool__(self) -> bool:
        return bool(self.bad_rows or self.file)

    def lines(self, name: str) -> list[str]:
        """``NAME:LINE: reason`` for the problems kept, in file order, then how many more there are."""
        found = [(line, f"{name}:{line}: {sentence}") for line, sentence in self.listed]
        if self.file:
            where = f"{name}:{self.file.line}:" if self.file.line else f"{name}:"
            found = sorted([*found, (self.file.line, f"{where} {self.file.detail}")])
        text = [line for _, line in found]
        if self.bad_rows > len(self.listed):
            text.append(f"... and {self.bad_rows - len(self.listed):,} more bad rows.")
        return text

    def summary(self) -> str:
        """One sentence that says what kept the file out."""
        rows = f"{self.bad_rows:,} bad row{'' if self.bad_rows == 1 else 's'}"
        if not self.file:
            return f"Nothing was written: {rows}."
        return f"Nothing was written: {self.file.what}" + (f", and it has {rows}." if self.bad_rows else ".")


class Rejected(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(problems.summary())
        self.problems = problems


class Staging:
    """A temporary SQLite database of checked rows, in file order, with each (day, event) at most once."""

    def __init__(self) -> None:
        # "": a private database on disk that SQLite deletes when it is closed; pages stay in memory until
        # its cache is full.
        self.db = sqlite3.connect("", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16384"):
            self.db.execute(f"PRAGMA {pragma}")
        # Keyed by position, not line: a compact JSON array holds many rows on one line.
        self.db.execute(
            "CREATE TABLE rows (pos INTEGER PRIMARY KEY, line INTEGER, day INTEGER, event TEXT, count INTEGER, "
            "visitors INTEGER)"
        )
        self.db.execute("CREATE UNIQUE INDEX one_each ON rows (day, event)")
        self.pending: list[Row] = []
        self.count = 0

    def add(self, row: Row, problems: Problems) -> None:
        """Stage a row; a (day, event) already staged is reported as a problem when the batch is written."""
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            self.flush(problems)

    def flush(self, problems: Problems) -> None:
        """Write the pending rows, reporting the lines that repeat an earlier (day, event)."""
        before = self.db.total_changes
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO rows VALUES (?, ?, ?, ?, ?, ?)", self.pending)
        self.db.execute("COMMIT")
        added = self.db.total_changes - before
        if added < len(self.pending):
            for row in self.pending:
                first, line = self.db.execute(
                    "SELECT pos, line FROM rows WHERE day = ? AND event = ?", (row.day, row.event)
                ).fetchone()
                if first != row.pos:
                    where = "earlier on this line" if line == row.line else f"on line {line}"
                    problems.add(row.line, f"{row.day},{row.event} already appears {where}.")
        self.count += added
        self.pending.clear()

    def rows(self, after: int = 0) -> Iterator[Row]:
        """The staged rows after position ``after``, in file order, read a batch at a time."""
        cursor = self.db.execute(
            "SELECT pos, line, day, event, count, visitors FROM rows WHERE pos > ? ORDER BY pos", (after,)
        )
        try:
            while batch := cursor.fetchmany(BATCH):
                yield from map(Row._make, batch)
        finally:
            cursor.close()

    def close(self) -> None:
        self.db.close()


class Checked:
    """A file read and checked in full: its SHA-256, its rows staged for writing, how many there are.

    :raises Rejected: listing the problems; nothing is kept.
    """

    def __init__(self, handle: BinaryIO) -> None:
        hashed = hashlib.sha256()
        problems = Problems()
        self.staging = Staging()
        try:
            for pos, (line, values) in enumerate(_items(_pieces(handle, hashed), problems), 1):
                try:
                    self.staging.add(_row(pos, line, values), problems)
                except ValueError as exc:
                    problems.add(line, str(exc))
        except FileProblem as exc:
            problems.file = exc
        except BaseException:
            self.staging.close()
            raise
        self.staging.flush(problems)
        if problems:
            self.staging.close()
            raise Rejected(problems)
        self.digest = hashed.hexdigest()
        self.count = self.staging.count

    def rows(self, after: int = 0) -> Iterator[Row]:
        """The checked rows after position ``after`` (positions go from 1 to :attr:`count`), in file order."""
        return self.staging.rows(after)

    def heavy_day(self, limit: int | None, row_bytes: Callable[[str, int], int]) -> tuple[int, int, int] | None:
        """The first day whose rows take more than ``limit`` bytes, ``row_bytes`` each: ``(day, rows, bytes)``."""
        if limit is None:
            return None
        self.staging.db.create_function("row_bytes", 2, row_bytes, deterministic=True)
        return self.staging.db.execute(
            "SELECT day, count(*), sum(row_bytes(event, count)) AS size FROM rows GROUP BY day HAVING size > ? "
            "ORDER BY day LIMIT 1", (limit,)
        ).fetchone()

    def __enter__(self) -> Checked:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.staging.close()


def _pieces(handle: BinaryIO, hashed: Any) -> Iterator[tuple[int, str]]:
    """The file as UTF-8 text in pieces of about ``PIECE`` bytes, each with the number of its first line.

    A piece ends at a line break unless a line is longer than ``PIECE``.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, first = 1, True
    while raw := handle.read(PIECE):
        if not raw.endswith(b"\n"):
            raw += handle.readline(PIECE)
        hashed.update(raw)
        if first:
            raw, first = raw.removeprefix(codecs.BOM_UTF8), False
        carried = len(decoder.getstate()[0])  # bytes of a character the last piece cut, decoded before these
        try:
            text = decoder.decode(raw)
        except UnicodeDecodeError as exc:
            raise _not_utf8(line + raw.count(b"\n", 0, max(exc.start - carried, 0)), exc) from None
        yield line, text
        line += raw.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(line, exc) from None


def _not_utf8(line: int, exc: UnicodeDecodeError) -> FileProblem:
    return FileProblem(line, "the file is not UTF-8 text", f"not UTF-8 text: {exc.reason}.")


def _items(pieces: Iterator[tuple[int, str]], problems: Problems) -> Iterator[tuple[int, Any]]:
    """``(line, values)`` of each row, CSV fields or a JSON value; a string in place of values is the problem."""
    seen: list[tuple[int, str]] = []
    for line, text in pieces:
        seen.append((line, text))
        found = _SOMETHING.search(text)
        if found:
            rest = _chain(seen, pieces)
            if found.group() == "[":
                return (yield from _json_rows(rest))
            if found.group() == "{":
                raise FileProblem(
                    line + text.count("\n", 0, found.start()),
                    "the file is a JSON object or JSON lines, not a JSON array",
                    'a JSON object or JSON lines: import reads a JSON array of {"day", "event", "count"} objects, '
                    "as export --format json writes, or CSV with the header day,event,count.",
                )
            return (yield from _csv_rows(rest, problems))
    raise FileProblem(0, "the file is empty", "the file is empty: import reads CSV with the header day,event,count, "
                                              "or a JSON array.")


def _chain(first: list[tuple[int, str]], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield from first
    yield from rest


def _csv_lines(pieces: Iterable[tuple[int, str]], problems: Problems) -> Iterator[list[str]]:
    """The lines of each piece, whole; one longer than ``MAX_LINE`` is reported and read as an empty line."""
    # Without their line breaks: the csv module ends a record at the end of each string.
    partial: list[str] = []  # the start of a line that runs on past its piece
    size = start = 0
    for line, text in pieces:
        lines = text.split("\n")
        rest = lines.pop()  # after the last line break: the start of a line that runs on, or ""
        if lines and (partial or size):
            size += len(lines[0])
            if size > MAX_LINE:
                problems.add(start, _LINE_RULE)
            lines[0] = "".join([*partial, lines[0]]) if size <= MAX_LINE else ""
            partial, size = [], 0
        yield lines
        if rest:
            start = start if partial or size else line + len(lines)
            size += len(rest)
            partial = [*partial, rest] if size <= MAX_LINE else []
    if size > MAX_LINE:
        problems.add(start, _LINE_RULE)
    elif partial:
        yield ["".join(partial)]


def _csv_rows(pieces: Iterable[tuple[int, str]], problems: Problems) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(itertools.chain.from_iterable(_csv_lines(pieces, problems)))
    try:
        header = next(reader, [])
    except csv.Error:
        header = ["..."]
    if [h.strip(params.BLANKS) for h in header] not in (list(totals.CSV_HEADER), [*totals.CSV_HEADER, totals.VISITORS]):
        shown = ",".join(header)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise FileProblem(1, "the file's first line is not the header day,event,count",
                          f"the first line must be the header day,event,count, not {shown!r}.")
    width = len(header)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = _FIELD_RULE if "field limit" in str(exc) else f"not valid CSV: {exc}."
            yield reader.line_num, reason
            continue
        if reader.line_num > start:
            # The reader is given lines without their breaks, so it would join the field's lines into one.
            yield start, _BREAK_RULE
        elif fields:
            yield reader.line_num, fields if len(fields) == width else (
                f"each row must have exactly {'three' if width == 3 else 'four'} fields: {','.join(header)}.")


def _json_rows(pieces: Iterator[tuple[int, str]]) -> Iterator[tuple[int, Any]]:
    """Each element of a JSON array with the line it starts on, read a piece at a time."""
    decoder = json.JSONDecoder()
    text, pos = "", 0
    line, counted = 1, 0  # the line at text[counted]
    done = False

    def more() -> bool:
        # Drop what was read, counting its line breaks, and append the next piece.
        nonlocal text, pos, line, counted, done
        line += text.count("\n", counted, pos)
        text, counted, pos = text[pos:], 0, 0
        piece = next(pieces, None)
        if piece is None:
            done = True
            return False
        text += piece[1]
        return True

    def skip_blanks() -> str:
        nonlocal pos
        while True:
            found = _SOMETHING.search(text, pos)
            pos = found.start() if found else len(text)
            if found or not more():
                return text[pos : pos + 1]

    def broken(message: str, at: int) -> FileProblem:
        return FileProblem(line + text.count("\n", counted, at), "the file is not valid JSON",
                           f"not valid JSON: {message}.")

    skip_blanks()
    pos += 1  # the "[" _items found
    if skip_blanks() == "]":
        pos += 1
    else:
        while True:
            skip_blanks()
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                if len(text) - pos > MAX_LINE:
                    raise broken(_ROW_RULE, pos) from None
                if done:
                    raise broken(exc.msg, exc.pos) from None
                more()  # the row may go on in the next piece: read it, then decode again
                continue
            except RecursionError:
                raise broken("nested too deeply", pos) from None
            if end == len(text) and not done:  # a number may go on in the next piece
                more()
                continue
            line += text.count("\n", counted, pos)
            counted = pos
            yield line, value if isinstance(value, dict) else _OBJECT
            pos = end
            after = skip_blanks()
            if after not in (",", "]"):
                raise broken("expecting ',' or ']' after a row", pos)
            pos += 1
            if after == "]":
                break
    if skip_blanks():
        raise broken("extra data after the array", pos)


def _row(pos: int, line: int, values: Any) -> Row:
    visitors = None
    if type(values) is list and len(values) in (3, 4):  # CSV fields
        day, event, count, *more = values
        if not all(_COUNT.fullmatch(number) for number in (count, *more)):
            raise ValueError(_COUNT_RULE)
        count, visitors = int(count), (int(more[0]) if more else None)
    elif isinstance(values, dict):
        if sorted(values) not in (sorted(totals.CSV_HEADER), sorted([*totals.CSV_HEADER, totals.VISITORS])):
            raise ValueError(_OBJECT)
        day, event, count = (values[k] for k in totals.CSV_HEADER)
        visitors = values.get(totals.VISITORS)
    elif isinstance(values, str):
        raise ValueError(values)
    else:
        raise ValueError("each row must have exactly three fields: day,event,count.")
    try:
        parsed = _day(day) if type(day) in (str, int) else _day.__wrapped__(day)
        name = _event(event) if type(event) is str else _event.__wrapped__(event)
    except BadRequest as exc:
        raise ValueError(exc.description) from None
    if any(type(n) is not int or not 0 <= n <= MAX_COUNT for n in (count, *([] if visitors is None else [visitors]))):
        raise ValueError(_COUNT_RULE)
    return Row(pos, line, parsed, name, count, visitors)


# A file repeats its days and its events row after row: checking each once saves a third of the time.
@functools.lru_cache(maxsize=256, typed=True)
def _day(value: Any) -> int:
    return days.to_int(params.day(value, "day"))


@functools.lru_cache(maxsize=1024)
def _event(value: Any) -> str:
    return params.event_name(value, "event")
