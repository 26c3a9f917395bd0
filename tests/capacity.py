"""What DynamoDB calls cost: ReturnConsumedCapacity on every call of one boto3 client, and DynamoDB's item size."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

METERED = {"UpdateItem", "GetItem", "BatchGetItem", "PutItem"}


@dataclass
class Meter:
    """The calls a client made since the last :meth:`clear`: ``(operation, capacity units or None if it failed)``."""

    calls: list[tuple[str, float | None]] = field(default_factory=list)

    def attach(self, client: Any) -> Meter:
        """Ask for ReturnConsumedCapacity=TOTAL on every metered call of ``client`` and record what comes back."""
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._ask)
        events.register("after-call.dynamodb.*", self._record)
        events.register("after-call-error.dynamodb.*", self._failed)
        return self

    def clear(self) -> None:
        self.calls.clear()

    def units(self, operation: str = "UpdateItem") -> list[float]:
        """The capacity units of each successful ``operation``."""
        return [units for name, units in self.calls if name == operation and units is not None]

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in METERED:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        if isinstance(consumed, list):  # BatchGetItem: one entry a table
            consumed = {"CapacityUnits": sum(entry["CapacityUnits"] for entry in consumed)}
        if parsed.get("Error"):
            self.calls.append((model.name, None))
        else:
            self.calls.append((model.name, consumed["CapacityUnits"] if consumed else 0.0))

    def _failed(self, model: Any, **_: Any) -> None:
        self.calls.append((model.name, None))


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value; a number takes
    1 byte per two significant digits (paired from the decimal point) plus 1, dynalite's exact rule."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        if "N" in value:
            _, digits, exponent = Decimal(value["N"]).normalize().as_tuple()
            first = len(digits) - 1 + exponent  # the power of ten of the leading digit
            total += 1 + -(-len(digits) // 2) + (0 if len(digits) % 2 or first % 2 else 1)
        else:
            total += len(value["S"].encode())
    return total


def write_units(item_size: int) -> int:
    """WCU of a write to an item of ``item_size`` bytes: one per KB begun."""
    return max(1, -(-item_size // 1024))
