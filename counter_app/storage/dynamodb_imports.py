"""What a DynamoDB import needs beside its writes: a lease on the file, and the bytes one day may take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .base import Lease

if TYPE_CHECKING:
    from .dynamodb import DynamoDBStorage

IMPORTS = 0  # the Day of the item that records imported files, and the leases of the imports running
# DynamoDB's item size limit, 400 KB, less room for the key and the bookkeeping attributes
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html, "Item size").
ITEM_BYTES = 400 * 1024 - 100


def row_bytes(event: str, count: int) -> int:
    """What one event's count takes in an item: its name's UTF-8 bytes, then a byte per two significant digits
    and one more (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""
    digits = len(str(count).strip("0"))
    return len(event.encode()) + (digits + 1) // 2 + 1


def take(store: DynamoDBStorage, lease: Lease, *, now: float, until: float, dead: str | None = None) -> str | None:
    """One conditional ``UpdateItem`` of the imports item: the lease is free, expired, ``lease.holder``'s already,
    or ``dead``'s; else one read of who holds it."""
    values = {":holder": {"S": lease.holder}, ":until": {"N": repr(until)}, ":now": {"N": repr(now)},
              ":dead": {"S": dead or lease.holder}}
    if _update(store, lease, "SET #h = :holder, #u = :until",
               "attribute_not_exists(#u) OR #u <= :now OR #h = :holder OR #h = :dead", values):
        return None
    holder = _names(lease)["#h"]
    return store._get_item(IMPORTS, holder).get(holder, {}).get("S", "")


def drop(store: DynamoDBStorage, lease: Lease) -> None:
    """Remove the lease if ``lease.holder`` holds it; another holder's is left alone."""
    _update(store, lease, "REMOVE #h, #u", "#h = :holder", {":holder": {"S": lease.holder}})


def _names(lease: Lease) -> dict[str, str]:
    # Lower case, like all bookkeeping, so never read as an event's count.
    return {"#h": f"running:{lease.name}", "#u": f"until:{lease.name}"}


def _update(store: DynamoDBStorage, lease: Lease, expression: str, condition: str, values: dict[str, Any]) -> bool:
    names = _names(lease)
    with store._errors():
        try:
            store._call("update_item", TableName=store.table, Key={"Day": {"N": str(IMPORTS)}},
                        UpdateExpression=expression, ConditionExpression=condition,
                        ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
    return True
