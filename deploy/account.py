"""What the account must allow before ``make deploy`` makes anything: room for the stage's reserved concurrency.

Lambda keeps part of the account's concurrency unreserved: 100 (configuration-concurrency.html: "You can reserve up
to the Unreserved account concurrency value minus 100"), or the whole quota when that is lower, so a new account
with a quota of 10 can reserve nothing ("decreases account's UnreservedConcurrentExecution below its minimum value
of [10]"). Zappa reserves only after it has made the function and its alias, which left a half-made stage.
"""

from __future__ import annotations

from typing import Any

KEPT_UNRESERVED = 100


def concurrency_problem(client: Any, stage: str, name: str, wanted: int | None) -> str | None:
    """Why Lambda would refuse to reserve ``wanted`` for function ``name``, in one sentence, or ``None``."""
    if not wanted:
        return None
    limits = client.get_account_settings()["AccountLimit"]
    quota, free = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    try:
        free += client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions", 0)
    except client.exceptions.ResourceNotFoundException:
        pass  # no function yet: nothing of the account's is reserved for it
    floor = min(KEPT_UNRESERVED, quota)
    if free - wanted >= floor:
        return None
    return (f"This account's Lambda concurrency quota is {quota} with {free} unreserved, and Lambda keeps {floor} "
            f"unreserved, so the {stage} stage cannot reserve {wanted}: ask for more in Service Quotas (Lambda, "
            f"Concurrent executions), or run make deploy STAGE={stage} RESERVE=no, which reserves none.")
