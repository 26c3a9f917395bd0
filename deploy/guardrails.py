"""After Zappa: the guard rails it has no setting for, read from the stage's settings.

- API throttling (``api_throttle_rate`` requests/s, ``api_throttle_burst``) on the stage of the REST API
  (``apigateway_version`` v1) or the HTTP API (v2) that Zappa's CloudFormation stack made;
- ``log_retention_days`` on the function's log group, made first if Lambda has not logged yet.
"""

from __future__ import annotations

from typing import Any

import boto3

from .stages import function_name, stage_settings


def apply(stage: str, session: Any = None) -> list[str]:
    """Throttle the stage's API and limit its logs' retention; one sentence per guard rail set."""
    config = stage_settings(stage)
    session = session or boto3.session.Session(region_name=config["aws_region"])
    name = function_name(stage)
    return [throttle(session, config, stage, name), retain_logs(session, config, name)]


def throttle(session: Any, config: dict[str, Any], stage: str, name: str) -> str:
    """Set the stage's default throttling, which API Gateway applies to each route (REST: each method)."""
    rate, burst = config["api_throttle_rate"], config["api_throttle_burst"]
    version = config.get("apigateway_version", "v1")
    api = api_id(session, config, name)
    if version == "v1":
        session.client("apigateway").update_stage(restApiId=api, stageName=stage, patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
        ])
    else:
        session.client("apigatewayv2").update_stage(ApiId=api, StageName=stage, DefaultRouteSettings={
            "ThrottlingRateLimit": float(rate), "ThrottlingBurstLimit": int(burst)})
    return f"Throttled stage {stage} of API {api} ({'REST' if version == 'v1' else 'HTTP'}) to {rate} requests/s, " \
           f"bursts of {burst}."


def api_id(session: Any, config: dict[str, Any], name: str) -> str:
    """The id of the REST API (``apigateway_version`` v1) or HTTP API (v2) in Zappa's stack ``name``."""
    resource = "Api" if config.get("apigateway_version", "v1") == "v1" else "ApiV2"  # the stack's logical ids
    found = session.client("cloudformation").describe_stack_resource(StackName=name, LogicalResourceId=resource)
    return found["StackResourceDetail"]["PhysicalResourceId"]


def retain_logs(session: Any, config: dict[str, Any], name: str) -> str:
    """Keep the function's logs ``log_retention_days`` days; Lambda's own log group keeps them forever."""
    logs = session.client("logs")
    group = f"/aws/lambda/{name}"
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_retention_policy(logGroupName=group, retentionInDays=config["log_retention_days"])
    return f"Log group {group} keeps {config['log_retention_days']} days."
