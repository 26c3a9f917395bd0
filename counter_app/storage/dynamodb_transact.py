"""The transaction path of an idempotent hit (``COUNTER_IDEMPOTENT_WRITES=transaction``): the id and the count."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import StoreUnavailable, TooManyEvents
from .dynamodb_calls import DynamoDBCalls, cancellation, too_large, unapplied
from .updates import Update


class Transactions(DynamoDBCalls):
    """One ``TransactWriteItems`` of an id's record and its increment."""

    def _transact(self, claim: dict[str, Any], update: Update) -> dict[str, Any] | None:
        """One ``TransactWriteItems``: the Put ``claim`` of an id and ``update``, both or neither.

        :return: ``{"Key": <the updated item's key>}``, or ``None`` if the update's condition failed.
        :raises Duplicate: if the id's condition failed: it is recorded, so its increment was applied.
        """
        items = [{"Put": claim}, {"Update": self._update_request(
            update.key, update.expression, update.names, update.values, update.condition)}]
        with self._errors(f"{self.table} or {self.ids_table}"):
            try:
                self._call("transact_write_items", TransactItems=items)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                # One reason per item, in order; "None" for an item that was not the cause.
                reasons = [*exc.response.get("CancellationReasons", []), {}, {}]
                codes = [*cancellation(exc), None, None]
                if codes[0] == "ConditionalCheckFailed":
                    raise Duplicate() from None
                if codes[1] == "ConditionalCheckFailed":
                    return None
                if any(too_large(reason) for reason in reasons):
                    raise TooManyEvents(f"item {update.key} reached DynamoDB's item size limit") from exc
                raise StoreUnavailable(f"DynamoDB transaction cancelled: {codes[0]}, {codes[1]}",
                                       transient=unapplied(exc)) from exc
        return {"Key": update.key}


class Duplicate(Exception):
    """The increment's id is recorded, unexpired: it was applied, and nothing more is added."""
