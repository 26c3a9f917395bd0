"""Private reads: a bearer token guards the read routes when one is configured."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

COOKIE = "counter_read"
COOKIE_DAYS = 30


def _same(sent: str, expected: str) -> bool:
    # compare_digest keeps the comparison constant-time; compare bytes so
    # non-ASCII input cannot raise.
    return hmac.compare_digest(sent.encode(), expected.encode())


def _cookie_value(token: object) -> str:
    # Derived from the token, so a leaked cookie does not reveal the token itself.
    return hmac.new(str(token).encode(), b"counter read cookie", "sha256").hexdigest()


def token_matches(sent: str) -> bool:
    """Whether ``sent`` is the read token (always true when none is set)."""
    token = current_app.config["READ_TOKEN"]
    return not token or _same(sent.strip(), str(token))


def read_allowed() -> bool:
    """Whether this request may read counts: no token set, the right bearer token, or the read cookie."""
    token = current_app.config["READ_TOKEN"]
    if not token:
        return True
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(sent):
        return True
    return _same(request.cookies.get(COOKIE, ""), _cookie_value(token))


def remember(response: Response) -> None:
    """Give this browser the read cookie, which browsers send on navigation where they cannot send a header."""
    token = current_app.config["READ_TOKEN"]
    if token:
        response.set_cookie(
            COOKIE, _cookie_value(token), max_age=COOKIE_DAYS * 86400, path="/",
            secure=request.is_secure, httponly=True, samesite="Strict",
        )


def keep_private(response: Response) -> None:
    """Keep a reply that needed the token out of shared caches: only the browser that asked may keep it."""
    max_age = response.cache_control.max_age
    response.headers["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-store"
    response.vary.update(("Authorization", "Cookie"))


def read_access(public_setting: str | None = None) -> Callable:
    """Guard a read route with ``READ_TOKEN``, unless config ``public_setting`` is true.

    :param public_setting: a config key such as ``"PUBLIC_BADGES"`` that opens the route.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            opened = public_setting and current_app.config.get(public_setting)
            guarded = current_app.config["READ_TOKEN"] and not opened
            if guarded and not read_allowed():
                raise Unauthorized(
                    "This counter's numbers are private: send Authorization: Bearer <token>.",
                    www_authenticate=WWWAuthenticate("Bearer", {"realm": "counter"}),
                )
            response = current_app.make_response(view(*args, **kwargs))
            if guarded:
                keep_private(response)
            return response

        return wrapper

    return decorate
