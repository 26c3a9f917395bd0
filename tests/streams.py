"""Real stream records of an app's ids table, read from moto's ``dynamodbstreams`` as Lambda's poller reads them."""

from __future__ import annotations

from typing import Any

import boto3


def shard_records(store: Any) -> tuple[str, list[dict[str, Any]]]:
    """The one shard of ``store``'s ids stream (moto keeps one) and every record it holds, oldest first."""
    session = boto3.session.Session()
    streams = session.client("dynamodbstreams")
    arn = session.client("dynamodb").describe_table(TableName=store.ids_table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
    return shard["ShardId"], records


def stream_records(store: Any) -> list[dict[str, Any]]:
    """Every record of ``store``'s ids stream, oldest first."""
    return shard_records(store)[1]
