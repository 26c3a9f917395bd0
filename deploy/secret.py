"""The read token in SSM Parameter Store or Secrets Manager (``COUNTER_READ_TOKEN_FROM``), never in Lambda's
configuration: ``make deploy`` stores the deployer's token there and grants the role that one parameter or secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from counter_app.secret_token import parse

SETTING = "COUNTER_READ_TOKEN_FROM"
MISSING = ("ParameterNotFound", "ResourceNotFoundException")


def source(config: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(service, name)`` of the stage's token, or ``None`` when the token is in the function's environment."""
    where = config.get("aws_environment_variables", {}).get(SETTING)
    return parse(where) if where else None


def grant(config: Mapping[str, Any]) -> dict[str, Any]:
    """The role's one statement for the token: read that parameter or secret, nothing else.

    A SecureString encrypted with the AWS managed key ``aws/ssm`` needs no ``kms:Decrypt`` of its own: that key
    "grants Decrypt permission to all IAM principals in the AWS account" (SSM user guide, ps-restrict-decryption).
    """
    kind, name = source(config) or ("", "")
    region = config["aws_region"]
    if kind == "ssm":
        return {"Sid": "ReadToken", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                "Resource": f"arn:aws:ssm:{region}:*:parameter{name}"}
    # Secrets Manager ends a secret's ARN with a hyphen and six random characters.
    return {"Sid": "ReadToken", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
            "Resource": f"arn:aws:secretsmanager:{region}:*:secret:{name}-??????"}


def store(session: Any, config: Mapping[str, Any], stage: str, environ: Mapping[str, str]) -> str:
    """Put the deployer's ``COUNTER_READ_TOKEN`` in the stage's parameter or secret, or check one is there already.

    :return: one sentence saying which.
    :raises SystemExit: neither the deployer's token nor a stored one.
    """
    kind, name = source(config) or ("", "")
    client = session.client(kind)
    token = environ.get("COUNTER_READ_TOKEN")
    if token is None:
        try:
            if kind == "ssm":
                client.get_parameter(Name=name)  # not decrypted: only whether it is there
            else:
                client.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in MISSING:
                raise
            raise SystemExit(f"Not deploying: the {stage} stage reads its token from {kind}:{name}, which does not "
                             f"exist yet: run COUNTER_READ_TOKEN=... make deploy STAGE={stage} once to store it.")
        return f"The read token stays in {kind}:{name}; the function reads it there."
    if kind == "ssm":
        client.put_parameter(Name=name, Value=token, Type="SecureString", Overwrite=True)
    else:
        try:
            client.put_secret_value(SecretId=name, SecretString=token)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=token)
    return f"Stored the read token in {kind}:{name}; the function reads it there, within 5 minutes of a change."
