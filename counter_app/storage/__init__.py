"""Counter stores, one module per backend, chosen by URL scheme."""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from .base import (
    MAX_COUNT,
    AlertState,
    ConfigurationError,
    CounterAtLimit,
    Counts,
    Lease,
    Once,
    Storage,
    StoreUnavailable,
    TooManyEvents,
    Visitor,
)

__all__ = [
    "MAX_COUNT",
    "AlertState",
    "SCHEMES",
    "ConfigurationError",
    "CounterAtLimit",
    "Counts",
    "Lease",
    "Once",
    "Storage",
    "StoreUnavailable",
    "TooManyEvents",
    "Visitor",
    "storage_from_url"
]

# Backends are imported only when chosen, so SQLite users never import boto3.
SCHEMES = {
    "sqlite": "counter_app.storage.sqlite:SQLiteStorage",
    "dynamodb": "counter_app.storage.dynamodb:DynamoDBStorage",
}


def storage_from_url(url: str, **options: Any) -> Storage:
    """Create the store that ``url`` names, such as ``sqlite:///path`` or ``dynamodb://``.

    :raises ConfigurationError: for an unknown scheme, naming it.
    """
    scheme = urlsplit(str(url)).scheme
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"COUNTER_STORE={url!r} is not a known store; use one of: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    module, _, cls = SCHEMES[scheme].partition(":")
    return getattr(import_module(module), cls)(url, **options)
