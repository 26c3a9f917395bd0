"""The DynamoDB store's reads: days' counts (each day's two items merged), and every day in order for export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .base import FIRST_DAY, LAST_DAY, Counts
from .dynamodb_calls import BATCH_SIZE, DynamoDBCalls
from .placement import KEY, merge, newcomers


class Reads(DynamoDBCalls):
    """Read counts back."""

    def get(self, days: Sequence[int]) -> Counts:
        unique = [day for day in dict.fromkeys(days) if FIRST_DAY <= day <= LAST_DAY]  # no bookkeeping item
        keys = [{KEY: {"N": str(key)}} for day in unique for key in (day, newcomers(day))]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_SIZE):
            items.extend(self._batch_get(keys[start : start + BATCH_SIZE]))
        return merge(items)

    def dump(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, dict[str, int]]]:
        # A Scan returns items in the order of their keys' hashes. To export in day order without
        # holding every item, scan the keys alone, sort them (one number a day), then read the days
        # in order through get(), 100 a batch, which also merges what get() merges.
        low, high = first or FIRST_DAY, last or LAST_DAY
        found: set[int] = set()
        start: dict[str, Any] = {}
        while True:
            with self._errors():  # through _call: a throttled page is asked for again, as a Scan changes nothing
                page = self._call("scan", TableName=self.table, ConsistentRead=True, ProjectionExpression="#d",
                                  ExpressionAttributeNames={"#d": KEY}, **start)
            for item in page["Items"]:
                day = abs(int(item[KEY]["N"]))  # -yyyyMMdd is a part of day yyyyMMdd
                if low <= day <= high:
                    found.add(day)
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        ordered = sorted(found)
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            counts = self.get(batch)
            yield from ((day, counts[day]) for day in batch if counts.get(day))
