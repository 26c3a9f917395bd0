"""The DynamoDB store's bulk writes, for imports: counters set or added many at a time, and the files imported."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from . import dynamodb_imports
from .base import MAX_COUNT, CounterAtLimit, Lease, Write
from .dynamodb_calls import DynamoDBCalls
from .dynamodb_visitors import visitors_key
from .placement import KEY, newcomers

EVENTS_PER_UPDATE = 50  # keeps one UpdateItem's expressions far below DynamoDB's 4 KB limit
WORKERS = 8  # concurrent UpdateItem calls in write_many
WINDOW = 4000  # rows write_many holds at a time: days of a window go in parallel
IMPORTS = dynamodb_imports.IMPORTS  # the Day of the item that records imported files: no day is 0


class Bulk(DynamoDBCalls):
    """Set and add counters in bulk, and remember the files imported."""

    def set(self, day: int, event: str, count: int) -> None:
        self._write_events(day, [(event, count)], replace=True)
        self._full.get(day, set()).discard(event)  # this process's admission takes the new value at once

    def _write_events(self, day: int, pairs: Sequence[tuple[str, int]], *, replace: bool) -> None:
        """One UpdateItem writing several events to the day item; with ``replace``, one more clears its newcomers."""
        numbers = range(len(pairs))
        names = {f"#e{n}": event for n, (event, _) in enumerate(pairs)}
        values = {f":n{n}": count for n, (_, count) in enumerate(pairs)}
        if replace:
            # The set value is the day's whole count: none may stay in the newcomers item. Removed first, so
            # that a hit counted there in between is kept on top of the set value rather than wiped out.
            self._update(newcomers(day), "REMOVE " + ", ".join(names), {**names, "#k": KEY}, {}, "attribute_exists(#k)")
            self._update(day, "SET " + ", ".join(f"#e{n} = :n{n}" for n in numbers), names, values)
            return
        values.update((f":r{n}", MAX_COUNT - count) for n, (_, count) in enumerate(pairs))
        fits = " AND ".join(f"(attribute_not_exists(#e{n}) OR #e{n} <= :r{n})" for n in numbers)
        if self._update(day, "ADD " + ", ".join(f"#e{n} :n{n}" for n in numbers), names, values, fits) is None:
            raise CounterAtLimit(f"a count of day {day} would pass {MAX_COUNT}, the largest a counter holds")

    def write_many(
        self, rows: Iterable[Write], *, replace: bool = False, done: Callable[[list[int]], None] | None = None
    ) -> None:
        # BatchWriteItem can neither ADD nor touch single attributes (a PutRequest
        # replaces the whole day), so each day gets UpdateItem calls that carry up
        # to EVENTS_PER_UPDATE of its events. The rows are read a WINDOW at a time;
        # the days of a window go in parallel, the calls of one day in turn (they
        # update the same item), and a window ends before the next one starts.
        report = threading.Lock()
        stop = threading.Event()
        source, offset = iter(rows), 0

        def write_day(window: list[Write], day: int, indices: list[int]) -> None:
            for start in range(0, len(indices), EVENTS_PER_UPDATE):
                if stop.is_set():
                    return
                chunk = indices[start : start + EVENTS_PER_UPDATE]
                rows = [window[i - offset] for i in chunk]
                # Visitors first, and set: a rerun after a failure in between sets them again, and adds nothing.
                self._set_visitors(day, [(row[1], row[3]) for row in rows if len(row) > 3 and row[3] is not None])
                self._write_events(day, [(row[1], row[2]) for row in rows], replace=replace)
                if done:
                    with report:
                        done(chunk)

        with ThreadPoolExecutor(WORKERS) as pool:
            while window := list(itertools.islice(source, WINDOW)):
                by_day: dict[int, list[int]] = {}
                for index, (day, *_) in enumerate(window, offset):
                    by_day.setdefault(day, []).append(index)
                futures = [pool.submit(write_day, window, day, indices) for day, indices in by_day.items()]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    # Stop sending; the writes already confirmed were reported, so a rerun can skip them.
                    stop.set()
                    for future in futures:
                        future.cancel()
                    raise
                offset += len(window)

    item_bytes = dynamodb_imports.ITEM_BYTES
    row_bytes = staticmethod(dynamodb_imports.row_bytes)
    in_flight = WORKERS * EVENTS_PER_UPDATE  # the calls write_many has sent, each with up to that many rows

    def take_lease(self, lease: Lease, *, now: float, until: float, dead: str | None = None) -> str | None:
        return dynamodb_imports.take(self, lease, now=now, until=until, dead=dead)  # type: ignore[arg-type]

    def drop_lease(self, lease: Lease) -> None:
        dynamodb_imports.drop(self, lease)  # type: ignore[arg-type]
    def _set_visitors(self, day: int, pairs: Sequence[tuple[str, int]]) -> None:
        """Set the day's visitors of ``pairs``' events, in the visitors item beside the day item, as counts are set."""
        if not pairs:
            return
        names = {f"#e{n}": event for n, (event, _) in enumerate(pairs)}
        values = {f":n{n}": number for n, (_, number) in enumerate(pairs)}
        other = visitors_key(day, in_day=False)
        self._update(other, "REMOVE " + ", ".join(names), {**names, "#k": KEY}, {}, "attribute_exists(#k)")
        self._update(visitors_key(day, in_day=True), "SET " + ", ".join(f"#e{n} = :n{n}" for n in range(len(pairs))),
                     names, values)

    def imported(self, digest: str) -> str | None:
        name = _file(digest)
        return self._get_item(IMPORTS, name).get(name, {}).get("S")

    def record_import(self, digest: str, when: str) -> None:
        with self._errors():
            self._call(
                "update_item", TableName=self.table, Key={KEY: {"N": str(IMPORTS)}}, UpdateExpression="SET #f = :when",
                ExpressionAttributeNames={"#f": _file(digest)}, ExpressionAttributeValues={":when": {"S": when}},
            )


def _file(digest: str) -> str:
    """The attribute of the imports item for a file: lower case, like all bookkeeping, never an event's name."""
    return f"sha256:{digest}"
