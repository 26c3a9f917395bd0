"""Private reads: a bearer token guards the read routes when one is configured."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from . import secret_token
from .secret_token import read_token
from .storage import StoreUnavailable

COOKIE = "counter_read"
COOKIE_DAYS = 30
MIN_TOKEN_CHARS = 16  # a short token can be guessed; 16 random characters cannot, even unthrottled


def token_problem(token: object) -> str | None:
    """Why ``token`` cannot be the read token, or ``None`` if it can; never repeats the token itself."""
    if token is None:
        return None
    if not isinstance(token, str):
        return f"COUNTER_READ_TOKEN must be text, not {type(token).__name__}"
    if token == "":
        return "COUNTER_READ_TOKEN is empty, which would leave reads public: unset it for public reads, or set a token"
    if token != token.strip():
        return "COUNTER_READ_TOKEN must not begin or end with whitespace: no request could send it"
    if len(token) < MIN_TOKEN_CHARS:
        return f"COUNTER_READ_TOKEN has {len(token)} characters; it needs at least {MIN_TOKEN_CHARS}"
    return None


def init_app(app: Flask) -> None:
    """Refuse to start with a read token that would not protect anything."""
    problem = token_problem(app.config["READ_TOKEN"])
    if problem:
        raise ValueError(problem)
    secret_token.init_app(app)


def _same(sent: str, expected: str) -> bool:
    # compare_digest keeps the comparison constant-time; compare bytes so
    # non-ASCII input cannot raise.
    return hmac.compare_digest(sent.encode(), expected.encode())


@functools.lru_cache(maxsize=8)  # one token per app: counting replies ask on every hit
def _cookie_value(token: str) -> str:
    # Derived from the token, so a leaked cookie does not reveal the token itself.
    return hmac.new(token.encode(), b"counter read cookie", "sha256").hexdigest()


def token_matches(sent: str) -> bool:
    """Whether ``sent`` is the read token (always true when none is set)."""
    token = read_token()
    return token is None or _same(sent.strip(), token)


def read_allowed() -> bool:
    """Whether this request may read counts: no token set, the right bearer token, or the read cookie."""
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    bearer, cookie = scheme.lower() == "bearer", request.cookies.get(COOKIE, "")
    if secret_token.configured() and not (bearer or cookie):
        return False  # private, and nothing to check: a hit without credentials never waits for SSM
    try:
        token = read_token()
    except StoreUnavailable:
        return False  # the token cannot be checked now: nothing private is shown, and counting goes on
    if token is None:
        return True
    if bearer and _same(sent.strip(), token):
        return True
    return _same(cookie, _cookie_value(token))


def remember(response: Response) -> None:
    """Give this browser the read cookie, which browsers send on navigation where they cannot send a header."""
    token = read_token()
    if token is not None:
        # Scoped to the app's root: under an API Gateway stage that is /dev, not every stage of the host.
        response.set_cookie(
            COOKIE, _cookie_value(token), max_age=COOKIE_DAYS * 86400, path=request.script_root or "/",
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
            guarded = not opened and read_token() is not None
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
