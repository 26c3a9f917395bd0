"""The DynamoDB store's tables: the counters, and the ids with their TTL and their stream, made if missing."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .backups import enable_point_in_time_recovery
from .dynamodb_calls import EXPIRES, ID, DynamoDBCalls, unsupported
from .placement import KEY

HEALTH_KEY = 1  # never written: the health check reads it
# What the aggregator reads: the new id record carries its day and event; REMOVEs (TTL's deletions) carry nothing.
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


class Tables(DynamoDBCalls):
    """Create the tables and check that the counters' answers."""

    def check(self) -> None:
        # Sent once (no resend on a failed connection): a health check is one cheap read, 0.5 RCU.
        with self._errors():
            self.client.get_item(TableName=self.table, Key={KEY: {"N": str(HEALTH_KEY)}})

    def create(self) -> str:
        done = [*self._create_table(self.table, KEY, "N"), *self._create_table(self.ids_table, ID, "S", STREAM)]
        done.append(self._expire_ids())
        done.append(self._stream_ids())
        # Visitors' salts: no point-in-time recovery, which would keep a restorable copy of each for 35 days.
        done.extend(self._create_table(self.salts_table, ID, "S", recover=False))
        done.append(self._expire_ids(self.salts_table))
        return "DynamoDB: " + "; ".join(done) + "."

    def stream_arn(self) -> str | None:
        """The ARN of the ids table's stream, ``None`` if it has none (dynalite keeps none)."""
        with self._errors(self.ids_table):
            table = self.client.describe_table(TableName=self.ids_table)["Table"]
        return table.get("LatestStreamArn") if table.get("StreamSpecification", {}).get("StreamEnabled") else None

    def _create_table(
        self, name: str, key: str, kind: str, stream: dict[str, Any] | None = None, *, recover: bool = True
    ) -> list[str]:
        """Create table ``name`` keyed by ``key`` of type ``kind`` if missing, protected; say what was done.

        :param recover: turn on point-in-time recovery.
        """
        done = []
        with self._errors(name):
            try:
                self.client.create_table(
                    TableName=name,
                    KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}],
                    BillingMode="PAY_PER_REQUEST",
                    DeletionProtectionEnabled=True,
                    **({"StreamSpecification": stream} if stream else {}),
                )
                done.append(f"created table {name} (PAY_PER_REQUEST, deletion protection on)")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceInUseException":
                    raise
                done.append(f"table {name} already exists")
            self.client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
            done.append(f"{name} is ACTIVE")
            if not recover:
                return done
            try:
                enable_point_in_time_recovery(self.client, name)
                done.append(f"point-in-time recovery is on for {name}")
            except ClientError as exc:
                if not unsupported(exc):
                    raise
                done.append(f"point-in-time recovery not set for {name}: this endpoint does not support it")
        return done

    def _expire_ids(self, table: str | None = None) -> str:
        """Turn on TTL over the ids table's (or ``table``'s) ``expires``, unless it is on already; say what was done."""
        table = table or self.ids_table
        kind = "ids" if table == self.ids_table else "salts"
        with self._errors(table):
            try:
                ttl = self.client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
                if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == EXPIRES:
                    return f"{kind} in {table} already expire through TTL on {EXPIRES}"
                self.client.update_time_to_live(
                    TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRES}
                )
            except ClientError as exc:
                if not unsupported(exc):
                    raise
                return f"TTL not set for {table}: this endpoint does not support it"
        return f"{kind} in {table} expire through TTL on {EXPIRES}"

    def _stream_ids(self) -> str:
        """Turn on the ids table's stream of new images (a table made before it existed has none); say so."""
        with self._errors(self.ids_table):
            table = self.client.describe_table(TableName=self.ids_table)["Table"]
            spec = table.get("StreamSpecification", {})
            if spec == STREAM:
                return f"{self.ids_table} streams its new ids ({table.get('LatestStreamArn')})"
            if spec.get("StreamEnabled"):
                # Another view type: the aggregator needs NEW_IMAGE, and a stream's view cannot be changed.
                return (f"{self.ids_table} streams {spec.get('StreamViewType')}, not NEW_IMAGE: disable its stream "
                        "and run create-table again")
            try:
                self.client.update_table(TableName=self.ids_table, StreamSpecification=STREAM)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("ValidationException", "UnknownOperationException"):
                    raise
            self.client.get_waiter("table_exists").wait(TableName=self.ids_table,
                                                         WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        if self.stream_arn() is None:
            return f"no stream on {self.ids_table}: this endpoint does not support it (the aggregator needs one)"
        return f"{self.ids_table} streams its new ids"
