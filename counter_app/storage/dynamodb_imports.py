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


def take(store: DynamoDBStorage, lease: Lease, *, now: float, until: float) -> bool:
    """One conditional ``UpdateItem`` of the imports item: the lease is free, expired, or ``lease.holder``'s already."""
    values = {":holder": {"S": lease.holder}, ":until": {"N": repr(until)}, ":now": {"N": repr(now)}}
    return _update(store, lease, "SET #h = :holder, #u = :until",
                   "attribute_not_exists(#u) OR #u <= :now OR #h = :holder", values)


def drop(store: DynamoDBStorage, lease: Lease) -> None:
    """Remove the lease if ``lease.holder`` holds it; another holder's is left alone."""
    _update(store, lease, "REMOVE #h, #u", "#h = :holder", {":holder": {"S": lease.holder}})


def _update(store: DynamoDBStorage, lease: Lease, expression: str, condition: str, values: dict[str, Any]) -> bool:
    # Lower case, like all bookkeeping, so never read as an event's count.
    names = {"#h": f"running:{lease.name}", "#u": f"until:{lease.name}"}
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
