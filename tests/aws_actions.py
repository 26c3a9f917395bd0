"""The IAM actions behind the requests moto recorded: what a deployer's policy must allow for them.

Each request is named by its protocol: JSON services by ``X-Amz-Target``, query services by ``Action``, REST
services by matching the method and path against botocore's models. API Gateway (both versions) is authorised
per HTTP method (``apigateway:POST``), and a few S3 calls by another action's name.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import botocore.session

# The signing name (Authorization's credential scope) -> botocore's service names that sign with it.
SERVICES = {"lambda": ["lambda"], "s3": ["s3"], "cloudfront": ["cloudfront"], "apigateway": ["apigatewayv2",
                                                                                              "apigateway"]}
# S3 operations authorised by another action (Amazon S3 API permissions reference).
S3_ACTIONS = {"HeadBucket": "ListBucket", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
              "HeadObject": "GetObject", "ListBuckets": "ListAllMyBuckets", "GetBucketLocation": "GetBucketLocation"}
# Calls that need a second permission: a function's role is passed to Lambda (iam:PassRole).
IMPLIED = {"lambda:CreateFunction": ["iam:PassRole"], "lambda:UpdateFunctionConfiguration": ["iam:PassRole"]}
NEEDS_NONE = {"sts:GetCallerIdentity"}  # answered for any credentials


def _body(entry: dict) -> str:
    raw = entry.get("body") or ""
    return base64.b64decode(raw).decode("utf-8", "replace") if entry.get("body_encoded") else raw


def _scope(headers: dict) -> str:
    found = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return found.group(1) if found else ""


@cache
def _routes(service: str) -> list[tuple[str, re.Pattern, dict[str, str], str, int]]:
    """``(method, path pattern, required query (a value of "" for any), operation, literal length)`` of each REST
    operation."""
    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        pattern = re.sub(r"\\{[^}]+\\\+\\}", ".+", re.escape(path))
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", pattern)
        keys = dict((part.split("=") + [""])[:2] for part in query.split("&") if part)
        shape = model.operation_model(name).input_shape
        members = shape.members if shape else {}
        required = set(shape.required_members) if shape else set()
        # Operations that share a path (PutObject, UploadPartCopy) differ in what they require besides it.
        for member in required:
            where = members[member].serialization
            if where.get("location") == "querystring":
                keys.setdefault(where["name"], "")
            elif where.get("location") == "header":
                keys.setdefault("header:" + where["name"].lower(), "")
        literal = len(re.sub(r"\{[^}]+\}", "", path)) + 100 * len(keys)
        routes.append((http["method"], re.compile(pattern.rstrip("/") + "/?"), keys, name, literal))
    return routes


def _rest_operation(service: str, method: str, url: str, headers: dict) -> str | None:
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query.update({"header:" + name.lower(): [value] for name, value in headers.items()})
    matches = [(literal, name) for verb, pattern, keys, name, literal in _routes(service)
               if verb == method and pattern.fullmatch(parts.path)
               and all(key in query and value in ("", query[key][0]) for key, value in keys.items())]
    return max(matches)[1] if matches else None


def action(entry: dict) -> str | None:
    """The IAM action for one recorded request, or ``None`` if it needs no permission."""
    headers = {name.title(): value for name, value in entry["headers"].items()}
    scope = _scope(headers)
    found: str | None
    if "X-Amz-Target" in headers:
        found = f"{scope}:{headers['X-Amz-Target'].rsplit('.', 1)[-1]}"
    elif "Action=" in _body(entry) or "Action=" in entry["url"]:
        query = parse_qs(_body(entry)) or parse_qs(urlsplit(entry["url"]).query)
        found = f"{scope}:{query['Action'][0]}"
    elif scope == "apigateway":
        found = f"apigateway:{entry['method']}"
    else:
        service = SERVICES[scope][0]
        name = _rest_operation(service, entry["method"], entry["url"], headers)
        if name is None:
            raise LookupError(f"no {service} operation for {entry['method']} {entry['url']}")
        name = re.sub(r"20\d\d_\d\d_\d\d$", "", name)  # CloudFront's versioned operation names
        found = f"{scope}:{S3_ACTIONS.get(name, name) if scope == 's3' else name}"
    return None if found in NEEDS_NONE else found


def actions(recording: Path, start: int = 0, end: int | None = None) -> set[str]:
    """Every IAM action behind the recorded requests ``start:end`` (line numbers), with those they imply."""
    entries = [json.loads(line) for line in recording.read_text().splitlines()[start:end]]
    found = {name for name in map(action, entries) if name}
    return found | {implied for name in found for implied in IMPLIED.get(name, [])}


def documented(text: str) -> set[str]:
    """The actions a fenced ``iam-actions`` block lists, a line per service: ``service: ActionA ActionB``."""
    block = text.split("```iam-actions\n", 1)[1].split("```", 1)[0]
    return {f"{service.strip()}:{name}" for line in block.splitlines() if line.strip()
            for service, _, names in [line.partition(":")] for name in names.split()}
