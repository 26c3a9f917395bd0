"""A stage a failed first deploy left half-made: its function exists, but not Zappa's stack, so no API.

``zappa update`` on such a stage updates the function and never makes the stack, and ``zappa deploy`` refuses a
function that exists. The function has never served anything (nothing routes to it), so ``make deploy`` deletes
it, with its versions and aliases, and deploys from the start.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def state(session: Any, name: str) -> str:
    """``"new"``, ``"half-made"`` (a function and no stack) or ``"deployed"``."""
    lambdas = session.client("lambda")
    try:
        lambdas.get_function(FunctionName=name)
    except lambdas.exceptions.ResourceNotFoundException:
        return "new"
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" not in exc.response["Error"].get("Message", ""):
            raise
        return "half-made"
    return "deployed" if stacks else "half-made"


def clear(session: Any, name: str) -> str:
    """Delete the half-made stage's function; say so."""
    session.client("lambda").delete_function(FunctionName=name)
    return f"Function {name} had no API (a first deploy stopped half-way): deleted it to deploy the stage afresh."
