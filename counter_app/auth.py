"""Private reads: a bearer token guards the read routes when one is configured."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized


def read_allowed() -> bool:
    """Whether this request may read counts: no token set, or the right one sent."""
    token = current_app.config["READ_TOKEN"]
    if not token:
        return True
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    # compare_digest keeps the comparison constant-time; compare bytes so
    # non-ASCII input cannot raise.
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), str(token).encode())


def read_access(public_setting: str | None = None) -> Callable:
    """Guard a read route with ``READ_TOKEN``, unless config ``public_setting`` is true.

    :param public_setting: a config key such as ``"PUBLIC_BADGES"`` that opens the route.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not (public_setting and current_app.config.get(public_setting)) and not read_allowed():
                raise Unauthorized(
                    "This counter's numbers are private: send Authorization: Bearer <token>.",
                    www_authenticate=WWWAuthenticate("Bearer", {"realm": "counter"}),
                )
            return view(*args, **kwargs)

        return wrapper

    return decorate
