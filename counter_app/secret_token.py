"""The read token kept outside the function's configuration: in SSM Parameter Store or Secrets Manager.

``COUNTER_READ_TOKEN_FROM`` names where: ``ssm:/counter/prod/read-token`` (a SecureString parameter) or
``secretsmanager:counter/prod/read-token`` (a secret whose ``SecretString`` is the token). The token is read when a
request first needs it and again once it is :data:`REFRESH_SECONDS` old, so a rotated token replaces the old one
within that time with no redeploy. Before a SnapStart snapshot it is dropped, and each restored copy reads it anew.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from .storage import StoreUnavailable

REFRESH_SECONDS = 300
EXTENSION = "counter_read_token"
# SSM parameter names (a path from /) and Secrets Manager names, as their APIs accept them.
KINDS = {"ssm": re.compile(r"/[A-Za-z0-9_.\-/]{1,1010}"), "secretsmanager": re.compile(r"[A-Za-z0-9/_+=.@\-]{1,512}")}


def parse(where: str) -> tuple[str, str]:
    """``(service, name)`` of a ``COUNTER_READ_TOKEN_FROM`` value.

    :raises ValueError: naming the setting when the value is neither form.
    """
    kind, _, name = where.partition(":")
    if kind not in KINDS or not KINDS[kind].fullmatch(name):
        raise ValueError("COUNTER_READ_TOKEN_FROM must be ssm:/PARAMETER/PATH or secretsmanager:SECRET-NAME")
    return kind, name


class TokenSource:
    """The token from one parameter or secret, read on first use, then again every :data:`REFRESH_SECONDS`."""

    def __init__(self, where: str, *, client: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.kind, self.name = parse(where)
        self._client = client
        self._clock = clock
        self._token: str | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> str:
        """The token, read again if it is :data:`REFRESH_SECONDS` old.

        :raises StoreUnavailable: the token was never read and cannot be now.
        """
        with self._lock:
            if self._token is None or self._clock() - self._read_at >= REFRESH_SECONDS:
                self._refresh()
            assert self._token is not None
            return self._token

    def forget(self) -> None:
        """Drop the token, so the next request (or :meth:`reread`) reads it again."""
        with self._lock:
            self._token = None

    def _refresh(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        from .auth import token_problem

        try:
            token = self._fetch()
            problem = token_problem(token) if isinstance(token, str) else "the token is not text"
        except (BotoCoreError, ClientError) as exc:
            problem = f"{self.kind} refused or did not answer: {type(exc).__name__}"
        if problem is None:
            self._token, self._read_at = token, self._clock()
            return
        if self._token is None:
            raise StoreUnavailable(f"the read token could not be read from {self.kind}:{self.name}: {problem}",
                                   transient=True)
        # Keep the token it has until the next refresh: an outage of SSM must not lock everyone out.
        self._read_at = self._clock()
        current_app.logger.warning("read token kept", extra={"fields": {"where": self.name, "reason": problem}})

    def _fetch(self) -> object:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(self.kind, config=Config(connect_timeout=1, read_timeout=2,
                                                                 retries={"mode": "standard", "max_attempts": 2}))
        if self.kind == "ssm":
            return self._client.get_parameter(Name=self.name, WithDecryption=True)["Parameter"]["Value"]
        return self._client.get_secret_value(SecretId=self.name).get("SecretString")


def init_app(app: Flask) -> None:
    """Read the token from ``READ_TOKEN_FROM`` when it is set; the two token settings exclude each other."""
    where = app.config.get("READ_TOKEN_FROM")
    if where is None:
        return
    if app.config["READ_TOKEN"] is not None:
        raise ValueError("COUNTER_READ_TOKEN_FROM and COUNTER_READ_TOKEN are both set: keep one")
    if not isinstance(where, str):
        raise ValueError("COUNTER_READ_TOKEN_FROM must be ssm:/PARAMETER/PATH or secretsmanager:SECRET-NAME")
    app.extensions[EXTENSION] = TokenSource(where)


def configured() -> bool:
    """Whether the app reads its token from a parameter or secret (so it always has one)."""
    return EXTENSION in current_app.extensions


def read_token() -> str | None:
    """The app's read token: from its parameter or secret when it has one, else ``READ_TOKEN``."""
    source = current_app.extensions.get(EXTENSION)
    return source.current() if source is not None else current_app.config["READ_TOKEN"]


def forget(app: Flask) -> None:
    """Before a snapshot: keep no token in the memory every restored copy starts from."""
    source = app.extensions.get(EXTENSION)
    if source is not None:
        source.forget()


def reread(app: Flask) -> None:
    """After a restore: read the token now; if that fails, the first request that needs it tries again."""
    source = app.extensions.get(EXTENSION)
    if source is None:
        return
    source.forget()
    with app.app_context():
        try:
            source.current()
        except StoreUnavailable as exc:
            app.logger.warning("read token not read after restore", extra={"fields": {"reason": str(exc)}})
