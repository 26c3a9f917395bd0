"""DynamoDB's part of the alert state: two bookkeeping items beside the imports item (``Day = 0``).

``Day = 2`` holds the marks, ``mark:<name>`` (N, the period held) with ``at:<name>`` (S); ``Day = 3`` the
observed hours, ``seen:<yyyyMMddHH>`` (S, JSON counts). Their attributes are lower case, like all bookkeeping,
so never an event's name, and ``get`` and ``dump`` never return them: 2 and 3 are not days. The marks are
apart so that the dashboard and ``/metrics`` read a small item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from .base import AlertState
from .placement import KEY

MARKS, OBSERVED = 2, 3  # the items' Day (0 holds imports, 1 is the health check's)
MARK, AT, SEEN = "mark:", "at:", "seen:"


class DynamoDBAlerts:
    """The alert state's four calls, each one DynamoDB call (``mark`` and ``unmark`` with a condition)."""

    def alert_state(self, seen: bool = True) -> AlertState:
        if seen:
            items = self._batch_get([{KEY: {"N": str(MARKS)}}, {KEY: {"N": str(OBSERVED)}}])  # type: ignore
            item = {name: value for found in items for name, value in found.items()}
        else:
            item = self._get_item(MARKS)  # type: ignore[attr-defined]
        marks = {name[len(MARK):]: (int(value["N"]), item.get(AT + name[len(MARK):], {}).get("S", ""))
                 for name, value in item.items() if name.startswith(MARK)}
        hours = {name[len(SEEN):]: json.loads(value["S"]) for name, value in item.items() if name.startswith(SEEN)}
        return AlertState(marks=marks, seen=hours)

    def mark(self, name: str, period: int, when: str) -> bool:
        return self._alert_update(
            MARKS, "SET #m = :p, #a = :at", {"#m": MARK + name, "#a": AT + name},
            {":p": {"N": str(period)}, ":at": {"S": when}}, "attribute_not_exists(#m) OR #m < :p")

    def unmark(self, name: str, period: int) -> None:
        self._alert_update(MARKS, "REMOVE #m, #a", {"#m": MARK + name, "#a": AT + name}, {":p": {"N": str(period)}},
                           "#m = :p")

    def observe(self, hour: str, counts: dict[str, int], forget: Sequence[str] = ()) -> None:
        names = {"#s": SEEN + hour, **{f"#f{n}": SEEN + old for n, old in enumerate(forget)}}
        removed = " REMOVE " + ", ".join(f"#f{n}" for n in range(len(forget))) if forget else ""
        self._alert_update(OBSERVED, "SET #s = if_not_exists(#s, :c)" + removed, names,
                           {":c": {"S": json.dumps(counts, sort_keys=True)}})

    def _alert_update(self, key: int, expression: str, names: dict[str, str], values: dict[str, Any],
                      condition: str | None = None) -> bool:
        """One ``UpdateItem`` of bookkeeping item ``key``; ``False`` if ``condition`` failed."""
        request: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        with self._errors():  # type: ignore[attr-defined]
            try:
                self._call("update_item", TableName=self.table, Key={KEY: {"N": str(key)}},  # type: ignore
                           UpdateExpression=expression, ExpressionAttributeNames=names,
                           ExpressionAttributeValues=values, **request)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    return False
                raise
        return True
