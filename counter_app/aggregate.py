"""The aggregator's two drivers: the Lambda function of the ids table's stream, and ``flask aggregate``.

Both hand one shard's records, in order, to the store's :meth:`aggregate`, which applies them exactly once.
A record that cannot be applied raises :class:`PoisonRecord` after an alarm line (``"alarm": "aggregator"``):
Lambda then bisects the batch, retries, and sends what still fails to the mapping's on-failure queue; the
command does the same bisection itself and skips, after the same alarm line, a record that fails alone.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .storage import StoreUnavailable, TooManyEvents
from .storage.base import PoisonRecord
from .store import get_store

BATCH = 100  # records per batch, as the event source mapping's BatchSize (deploy/aggregator.py)
WINDOW = 0.5  # seconds a batch gathers records, and between polls of idle shards (the mapping: 1 s)
Batch = Sequence[Mapping[str, Any]]


def alarm(logger: logging.Logger, shard: str, records: Batch, reason: str) -> None:
    """The alarm-worthy JSON line for records that could not be applied: a metric filter on ``alarm`` pages."""
    sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
    logger.error("aggregator could not apply records", extra={"fields": {
        "alarm": "aggregator", "shard": shard, "first": sequences[0], "last": sequences[-1],
        "records": len(sequences), "reason": reason}})


def apply(shard: str, records: Batch, logger: logging.Logger) -> int:
    """Apply one batch; on a poison record, the alarm line, then raise it (Lambda's bisection takes over)."""
    try:
        return get_store().aggregate(shard, list(records))  # type: ignore[attr-defined]
    except (PoisonRecord, TooManyEvents) as exc:
        alarm(logger, shard, records, str(exc))
        raise PoisonRecord(str(exc)) from exc


def bisect(shard: str, records: Batch, logger: logging.Logger) -> int:
    """Apply ``records`` as Lambda's bisect-on-error does: halves of a failing batch, down to a record skipped."""
    try:
        return apply(shard, records, logger)
    except PoisonRecord:
        if len(records) == 1:
            return 0  # reported by its alarm line: the rest of the shard goes on
        half = len(records) // 2
        return bisect(shard, records[:half], logger) + bisect(shard, records[half:], logger)


@functools.cache
def _app() -> Flask:
    from . import create_app

    return create_app()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The function Zappa's handler calls for the ids stream's events (``events`` in zappa_settings).

    The mapping sets a tumbling window, so each event names its shard (``shardId``) and must answer a ``state``.
    """
    app = _app()
    with app.app_context():
        records = event.get("Records") or []
        if records:
            if "shardId" not in event:
                raise ValueError("the stream's event names no shard: the mapping needs TumblingWindowInSeconds")
            apply(shard_name(event["eventSourceARN"], event["shardId"]), records, app.logger)
    return {"state": {}, "batchItemFailures": []}


def shard_name(arn: str, shard: str) -> str:
    """What a shard's checkpoint is kept under: its stream's ARN (a new table has a new one) and its id."""
    return f"{arn} {shard}"


def shards(streams: Any, arn: str) -> list[dict[str, Any]]:
    """The stream's shards, parents before their children (a child's records come after its parent's)."""
    found: list[dict[str, Any]] = []
    start: dict[str, str] = {}
    while True:
        page = streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
        found.extend(page["Shards"])
        if "LastEvaluatedShardId" not in page:
            break
        start = {"ExclusiveStartShardId": page["LastEvaluatedShardId"]}
    ids = {shard["ShardId"] for shard in found}
    ordered: list[dict[str, Any]] = []
    while found:
        ready = [s for s in found if s.get("ParentShardId") not in ids - {o["ShardId"] for o in ordered}]
        ordered.extend(ready)
        found = [s for s in found if s not in ready]
    return ordered


def poll(streams: Any, arn: str, logger: logging.Logger, *, follow: bool = False, batch: int = BATCH,
         sleep: Callable[[float], None] = time.sleep) -> int:
    """Read every shard from its checkpoint and apply its batches, as Lambda's event source mapping does.

    :param follow: keep polling open shards (every :data:`WINDOW` seconds when idle) instead of stopping at their end.
    :return: hits applied.
    """
    store, applied = get_store(), 0
    while True:
        for shard in shards(streams, arn):
            name = shard_name(arn, shard["ShardId"])
            done = store._checkpoint(name)  # type: ignore[attr-defined]
            start = {"ShardIteratorType": "TRIM_HORIZON"} if done is None else {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **start).get("ShardIterator")
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=batch)
                if page["Records"]:
                    applied += bisect(name, page["Records"], logger)
                iterator = page.get("NextShardIterator")
                if not page["Records"]:
                    break  # the shard's end for now; an open shard is read again on the next round
                if follow and len(page["Records"]) < batch:
                    sleep(WINDOW)  # the batching window, as the mapping's: fuller batches, fewer transactions
        if not follow:
            return applied
        sleep(WINDOW)


@click.command("aggregate")
@click.option("--follow", is_flag=True, help="keep polling the stream (as Lambda would) instead of stopping")
@with_appcontext
def aggregate_command(follow: bool) -> None:
    """Add up the ids table's stream into the counters: what the Lambda function does, off Lambda."""
    store = get_store()
    if not hasattr(store, "aggregate"):
        raise click.ClickException("Only a DynamoDB store has a stream to aggregate; SQLite counts each hit at once.")
    try:
        arn = store.stream_arn()
        if arn is None:
            raise click.ClickException(f"Table {store.ids_table} has no stream: run flask create-table.")
        import boto3  # only a DynamoDB store gets here: SQLite users never import it

        streams = boto3.session.Session().client("dynamodbstreams")
        applied = poll(streams, arn, current_app.logger, follow=follow)
    except StoreUnavailable as exc:
        raise click.ClickException(f"The store is unavailable: {exc}; run it again to go on.") from None
    click.echo(f"Aggregated {applied} hits.")


def init_app(app: Flask) -> None:
    """Register ``flask aggregate``."""
    app.cli.add_command(aggregate_command)
