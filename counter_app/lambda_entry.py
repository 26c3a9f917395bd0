"""The function's entry point on Lambda (``lambda_handler`` in zappa_settings.json): Zappa's handler, and the end
of a tumbling window that carries no records.

The ids stream's mapping has a tumbling window (deploy/aggregator.py), so Lambda ends each window with an event
flagged ``isFinalInvokeForWindow``, which may hold no records, and treats a reply without ``state`` as a failed
invocation, which holds the shard until one succeeds
(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html, "Aggregation and processing").
Zappa 0.63's handler dispatches a stream's event only when ``Records`` is not empty
(zappa/handler.py, ``LambdaHandler.handler``: ``elif event.get("Records", None)``) and returns ``None`` for an
event it does not recognise, so that event is answered here.
"""

from __future__ import annotations

from typing import Any

import handler  # Zappa's, at the package's root; importing it builds the app in the init phase (and the snapshot)

from .aggregate import WINDOW_REPLY


def lambda_handler(event: Any, context: Any) -> Any:
    """Answer a window's end without records; hand every other event to Zappa's handler."""
    if isinstance(event, dict) and "isFinalInvokeForWindow" in event and not event.get("Records"):
        return dict(WINDOW_REPLY)
    return handler.lambda_handler(event, context)
