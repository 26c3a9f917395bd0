"""What ``make deploy`` refuses before it touches AWS: a placeholder bucket, an open counter, missing guard rails."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .stages import isolated, stage_environment, stage_settings

PLACEHOLDER_BUCKET = "counter-zappa-deploys-change-me"
# The values CloudWatch Logs accepts for a log group's retention.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
                  3653)
MAX_RETAINED_VERSIONS = 10
# A request's deadline is the function's timeout less 0.5 s, and a DynamoDB call may take 3 s: with less than 4 s
# every counting request would answer 503 (counter_app/deadline.py).
TIMEOUT_SECONDS = (4, 900)


def problems(stage: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every reason not to deploy ``stage`` with the deployer's ``environ``, one sentence each."""
    config = stage_settings(stage)
    committed = config.get("aws_environment_variables", {})
    found = []
    if "COUNTER_READ_TOKEN" in committed:
        found.append("COUNTER_READ_TOKEN is in zappa_settings.json, which is committed: remove it there and export "
                     "it when you run make deploy.")
    if config.get("s3_bucket") == PLACEHOLDER_BUCKET:
        found.append(f"s3_bucket in zappa_settings.json is still the placeholder {PLACEHOLDER_BUCKET}: set it to a "
                     f"bucket you own in {config['aws_region']}.")
    if "COUNTER_READ_TOKEN" not in environ:
        found.append(f"make deploy STAGE={stage} needs COUNTER_READ_TOKEN in your environment, 16 characters or more "
                     "from your password manager or secret store: a deployed counter's numbers are private.")
    if "COUNTER_EVENTS" not in committed and "COUNTER_EVENTS" not in environ:
        found.append(f"make deploy STAGE={stage} needs COUNTER_EVENTS, in the stage's aws_environment_variables or "
                     "your environment: the names it counts, such as PAGEVIEW,SIGNUP, or * for any name.")
    found += _guard_rail_problems(stage, config)
    refusal = app_refusal(stage_environment(stage, environ))
    if refusal:
        found.append(f"The {stage} function would refuse to start: {refusal}.")
    return found


def _guard_rail_problems(stage: str, config: dict[str, Any]) -> list[str]:
    found = []
    if config.get("debug", True) is not False:
        found.append(f'The {stage} stage needs "debug": false; Zappa\'s default puts tracebacks in 500 replies.')
    if not _whole(config.get("lambda_concurrency"), 1):
        found.append(f'The {stage} stage needs "lambda_concurrency", the instances it may run at once (1 or more).')
    if not (_whole(config.get("num_retained_versions"), 1)
            and config["num_retained_versions"] <= MAX_RETAINED_VERSIONS):
        found.append(f'The {stage} stage needs "num_retained_versions" from 1 to {MAX_RETAINED_VERSIONS}; '
                     "Zappa keeps every version otherwise.")
    if not (_whole(config.get("timeout_seconds", 30), TIMEOUT_SECONDS[0])
            and config.get("timeout_seconds", 30) <= TIMEOUT_SECONDS[1]):
        found.append(f'The {stage} stage needs "timeout_seconds" from {TIMEOUT_SECONDS[0]} to {TIMEOUT_SECONDS[1]}: '
                     "a request needs room for one DynamoDB call (3 s) before its deadline, 0.5 s before the timeout.")
    if config.get("apigateway_enabled", True) is False:
        found.append(f"The {stage} stage has no API Gateway, so nothing would throttle its public endpoint.")
    rate = config.get("api_throttle_rate")
    if not (isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0
            and _whole(config.get("api_throttle_burst"), 1)):
        found.append(f'The {stage} stage needs "api_throttle_rate" (requests per second, above 0) and '
                     '"api_throttle_burst" (1 or more): they cap the bill.')
    if config.get("log_retention_days") not in RETENTION_DAYS:
        found.append(f'The {stage} stage needs "log_retention_days", one of CloudWatch\'s values such as 14 or 30.')
    return found + _snap_start_problems(stage, config)


def _snap_start_problems(stage: str, config: dict[str, Any]) -> list[str]:
    if config.get("snap_start", "None") == "None":
        return []
    found = []
    if config.get("aws_environment_variables", {}).get("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT") != "true":
        found.append(f'The {stage} stage has "snap_start" but not INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT=true in its '
                     "aws_environment_variables: Zappa would make the app after the snapshot, on every restore.")
    if config.get("keep_warm", True):
        found.append(f'The {stage} stage has "snap_start" and "keep_warm": the pings keep $LATEST warm, which '
                     "SnapStart never serves (API Gateway calls its alias): set keep_warm to false.")
    return found


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def app_refusal(environment: Mapping[str, str]) -> str | None:
    """Why the app would refuse to start in a process whose ``COUNTER_*`` environment is ``environment``."""
    from counter_app import create_app

    with _environment(environment):
        try:
            create_app()
        except ValueError as exc:
            return str(exc)
    return None


@contextmanager
def _environment(environment: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(isolated(environment, saved))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
