"""DynamoDB store: two items per day (see placement), one numeric attribute per event.

Read it top-down: :mod:`.dynamodb_calls` (the client and its primitives), :mod:`.dynamodb_tables`,
:mod:`.dynamodb_transact` (the transaction path), :mod:`.dynamodb_writes` (one hit, through :mod:`.placement`),
:mod:`.dynamodb_aggregate` (the stream of ids added up), :mod:`.dynamodb_bulk` (imports), :mod:`.dynamodb_imports`
(an import's lease), :mod:`.dynamodb_reads` and :mod:`.dynamodb_alerts`.
"""

from __future__ import annotations

from .base import Storage
from .dynamodb_aggregate import Aggregator
from .dynamodb_alerts import DynamoDBAlerts
from .dynamodb_bulk import EVENTS_PER_UPDATE, IMPORTS, WORKERS, Bulk
from .dynamodb_calls import ATTEMPTS, BATCH_ATTEMPTS, CALL_SECONDS, EXPIRES, ID, THROTTLED
from .dynamodb_reads import Reads
from .dynamodb_tables import HEALTH_KEY, Tables
from .placement import KEY

__all__ = ["ATTEMPTS", "BATCH_ATTEMPTS", "CALL_SECONDS", "EVENTS_PER_UPDATE", "EXPIRES", "HEALTH_KEY", "ID", "IMPORTS",
           "KEY", "THROTTLED", "WORKERS", "DynamoDBStorage"]


class DynamoDBStorage(DynamoDBAlerts, Tables, Aggregator, Bulk, Reads, Storage):
    """Counters in a DynamoDB table keyed by ``Day`` (N), updated with ``ADD``.

    Endpoint, region and credentials come from boto3's standard environment,
    such as ``AWS_ENDPOINT_URL_DYNAMODB`` and ``AWS_DEFAULT_REGION``.

    :param url: ``dynamodb://``.
    :param table: the table name, ``<prefix>_counters``.
    :param ids_table: the table of idempotency keys, ``<prefix>_counter_ids``, keyed by ``Id`` (S).
    :param salts_table: the days' visitor salts, ``<prefix>_counter_salts``, keyed by ``Id`` (S), without backups.
    :param writes: ``stream`` (an id record, added up by the aggregator) or ``transaction`` (id and count together).
    """
