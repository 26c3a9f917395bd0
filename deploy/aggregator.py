"""The aggregator's wiring: the ids table's stream, as the function's event source, and where failed batches go.

Zappa 0.63 makes AWS_EVENT_MAPPING from ``events`` (zappa/cli.py, the package's settings), which is how its
handler dispatches a stream's records to ``counter_app.aggregate.handler`` (zappa/handler.py,
``get_function_for_aws_event``). Its own mapping for a DynamoDB stream (zappa/utilities.py,
``DynamoDBStreamEventSource``) sends only FunctionName, EventSourceArn, BatchSize and Enabled: no starting
position (which DynamoDB streams need), no bisection, no failure destination and no tumbling window. So the
mapping is made here, after Zappa, and any mapping Zappa made for the stream is set the same way.

The settings, and why (Lambda's parameters for DynamoDB event source mappings,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html):

- ``BatchSize`` 100: a batch is one transaction of at most 100 items (the checkpoint and at most 99 counter
  items; the 33 writable days have 66), and the aggregator applies at most 100 hits in it.
- ``MaximumBatchingWindowInSeconds`` 1: at a busy minute a batch a second per shard; with Lambda's polling
  (4 a second) and the transaction, a hit is counted about 1.5 s after it was recorded (p99 target 2 s).
- ``BisectBatchOnFunctionError``, ``MaximumRetryAttempts`` 10, ``MaximumRecordAgeInSeconds`` 86400, and
  ``DestinationConfig.OnFailure`` the SQS queue ``<function>-aggregator-failures``: a batch that cannot be
  applied is halved until the record that fails is alone, retried, then described in the queue (shard and
  sequence numbers; the records stay in the stream for 24 hours) and the shard goes on.
- ``TumblingWindowInSeconds`` 60: with a window, each event names its shard (``shardId``), which keys the
  aggregator's checkpoint; the window's state is not used (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html).
- ``StartingPosition`` TRIM_HORIZON: ids recorded before the mapping existed are counted too.
"""

from __future__ import annotations

from typing import Any

import boto3

from .stages import function_name, stage_settings

FUNCTION = "counter_app.aggregate.handler"
ALIAS = "snapstart"  # the alias Zappa publishes for snap_start; API Gateway calls it, and so does the mapping
MAPPING: dict[str, Any] = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 1,
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 10,
    "MaximumRecordAgeInSeconds": 86400,
    "TumblingWindowInSeconds": 60,
    "Enabled": True,
}


def ids_table(stage: str) -> str:
    return f"{stage_settings(stage)['aws_environment_variables']['COUNTER_TABLE_PREFIX']}_counter_ids"


def stream_arn(stage: str, session: Any = None) -> str:
    """The ARN of the stage's ids stream, which ``create-table`` turned on."""
    session = session or boto3.session.Session(region_name=stage_settings(stage)["aws_region"])
    table = session.client("dynamodb").describe_table(TableName=ids_table(stage))["Table"]
    if "LatestStreamArn" not in table:
        raise SystemExit(f"Not deploying: table {ids_table(stage)} has no stream; run make create-table STAGE={stage}.")
    return table["LatestStreamArn"]


def events(arn: str) -> list[dict[str, Any]]:
    """The stage's Zappa ``events``: the stream's records go to the aggregator's function."""
    return [{"function": FUNCTION, "event_source": {"arn": arn, "batch_size": MAPPING["BatchSize"], "enabled": True}}]


def wire(stage: str, arn: str, session: Any = None) -> list[str]:
    """Make the failure queue and point exactly one mapping of the stream at the function (prod: its alias)."""
    config = stage_settings(stage)
    session = session or boto3.session.Session(region_name=config["aws_region"])
    name = function_name(stage)
    sqs, lambdas = session.client("sqs"), session.client("lambda")
    queue = sqs.create_queue(QueueName=f"{name}-aggregator-failures",
                             Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]  # 14 days, SQS's most
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = lambdas.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    target = f"{function}:{ALIAS}" if config.get("snap_start", "None") != "None" else function
    wanted = {**MAPPING, "DestinationConfig": {"OnFailure": {"Destination": queue_arn}}}
    found = lambdas.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    for extra in found[1:]:
        lambdas.delete_event_source_mapping(UUID=extra["UUID"])
    if found:
        lambdas.update_event_source_mapping(UUID=found[0]["UUID"], FunctionName=target, **wanted)
    else:
        lambdas.create_event_source_mapping(EventSourceArn=arn, FunctionName=target, StartingPosition="TRIM_HORIZON",
                                            **wanted)
    return [f"Failed aggregator batches go to {queue_arn}.",
            f"The stream {arn} feeds {target} (batches of {MAPPING['BatchSize']}, a "
            f"{MAPPING['MaximumBatchingWindowInSeconds']} s window, bisected on error)."]
