"""``python -m deploy.zappa_run ARGS``: Zappa's command line, patient with a role IAM has not propagated yet.

Zappa makes the function's role, zips and uploads, then calls ``CreateFunction``. A role made seconds earlier can
still be refused there ("The role defined for the function cannot be assumed by Lambda": IAM is eventually
consistent), which left a first deploy needing a second run. Here that one refusal is asked again, with waits.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any

WAITS = (2, 4, 8, 10, 10, 10, 10, 10)  # about a minute in all


def role_not_ready(exc: Exception) -> bool:
    """Whether ``exc`` is Lambda refusing a role it cannot assume yet."""
    error = getattr(exc, "response", {}).get("Error", {})
    return error.get("Code") == "InvalidParameterValueException" and "cannot be assumed" in error.get("Message", "")


def patient(create: Callable[..., Any], sleep: Callable[[float], None] = time.sleep) -> Callable[..., Any]:
    """``create`` (Zappa's ``create_lambda_function``), called again after each wait while the role is not ready."""

    @functools.wraps(create)
    def created(*args: Any, **kwargs: Any) -> Any:
        for wait in (*WAITS, None):
            try:
                return create(*args, **kwargs)
            except Exception as exc:
                if wait is None or not role_not_ready(exc):
                    raise
            print(f"Lambda cannot assume the new role yet (IAM propagates changes in seconds): trying again in "
                  f"{wait} s.", file=sys.stderr)
            sleep(wait)
        raise AssertionError("unreachable")

    return created


def main(argv: list[str]) -> None:
    """Run ``zappa ARGS`` with :func:`patient` around Zappa's ``create_lambda_function``."""
    from zappa import cli, core

    core.Zappa.create_lambda_function = patient(core.Zappa.create_lambda_function)  # type: ignore[method-assign]
    sys.argv = ["zappa", *argv]
    cli.handle()


if __name__ == "__main__":
    main(sys.argv[1:])
