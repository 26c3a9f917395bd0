"""Point-in-time recovery on a table just made, which DynamoDB may refuse until the table's backups are ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

# ContinuousBackupsUnavailableException: "Backups are being enabled for the table" right after CreateTable
# (API_UpdateContinuousBackups). 1 + 2 + 4 + ... + 30 s: about four minutes in all before giving up.
WAITS = (1, 2, 4, 8, 15, 30, 30, 30, 30, 30, 30)


def enable_point_in_time_recovery(client: Any, name: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """``UpdateContinuousBackups`` on ``name``, asked again after each wait while backups are not ready yet."""
    for wait in (*WAITS, None):
        try:
            client.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ContinuousBackupsUnavailableException" or wait is None:
                raise
        sleep(wait)
