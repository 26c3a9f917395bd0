"""Cross-origin access: flask-cors answers browsers; ``ALLOWED_ORIGINS`` refuses unlisted sites."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_cors import CORS

from .errors import failure

ANY = "*"
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\s*]+")
PREFLIGHT_MAX_AGE = 86400
# What browsers put in Sec-Fetch-Site for another site's request, even when its Referrer-Policy hides
# Origin and Referer; "same-origin" is the counter's own page and "none" a typed URL or a bookmark.
HIDDEN_SITES = {"cross-site", "same-site"}


def parse_origins(value: Any) -> frozenset[str] | None:
    """Parse ``ALLOWED_ORIGINS``: ``None`` for any origin, else the set of listed origins.

    :param value: ``"*"``, a comma-separated string, or a list (from_prefixed_env turns JSON lists into lists).
    :raises ValueError: naming ``COUNTER_ALLOWED_ORIGINS`` and the bad value.
    """
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"COUNTER_ALLOWED_ORIGINS={value!r} must be * or comma-separated origins")
    origins = {item.strip().lower().removesuffix("/") for item in items} - {""}
    if ANY in origins:
        return None
    bad = sorted(origin for origin in origins if not _ORIGIN.fullmatch(origin))
    if bad or not origins:
        raise ValueError(
            f"COUNTER_ALLOWED_ORIGINS={value!r} must be * or comma-separated origins such as "
            f"https://example.com,http://localhost:8000; not origins: {', '.join(bad) or 'none given'}"
        )
    return frozenset(origins)


def request_origin() -> str | None:
    """The site a request comes from: its ``Origin``, else its ``Referer``'s origin, else ``None``."""
    origin = request.headers.get("Origin")
    if origin:
        return origin.strip().lower()
    referer = request.headers.get("Referer")
    if not referer:
        return None
    parts = urlsplit(referer.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def refuse_unlisted() -> Response | None:
    """Refuse, before any view runs, a request from a site ``ALLOWED_ORIGINS`` does not list.

    The counter's own origin is always allowed: the dashboard posts its token form to itself.
    A browser request from another site that hides its origin (``Referrer-Policy: no-referrer``)
    is refused too: browsers still mark it ``Sec-Fetch-Site: cross-site`` or ``same-site``.
    """
    allowed = current_app.extensions["counter.origins"]
    origin = request_origin()
    if origin is None:
        if request.headers.get("Sec-Fetch-Site", "").strip().lower() in HIDDEN_SITES:
            return failure(403, "This counter does not accept requests from another site's page that hides "
                                "its origin; let the page send its Referer (Referrer-Policy: origin or the default).")
        return None
    if origin in allowed or origin == request.host_url.rstrip("/").lower():
        return None
    return failure(403, f"This counter does not accept requests from {origin}.")


def init_app(app: Flask) -> None:
    """Validate ``ALLOWED_ORIGINS`` at start-up, answer CORS, refuse unlisted origins."""
    allowed = parse_origins(app.config["ALLOWED_ORIGINS"])
    app.extensions["counter.origins"] = allowed
    hooks = app.after_request_funcs.setdefault(None, [])
    before = len(hooks)
    CORS(
        app,
        origins=ANY if allowed is None else sorted(allowed),
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        max_age=PREFLIGHT_MAX_AGE,
        expose_headers=["Retry-After"],
        always_send=False,
    )
    # With always_send off, flask-cors adds nothing to a reply whose request has no Origin, yet works out
    # that nothing (a path match, option lookups) on every reply: skip it there, as most hits have none.
    (answer,) = hooks[before:]
    hooks[before] = functools.partial(_with_origin_only, answer)
    if allowed is not None:  # with any origin allowed there is nothing to refuse
        app.before_request(refuse_unlisted)


def _with_origin_only(answer: Callable[[Response], Response], response: Response) -> Response:
    return answer(response) if "Origin" in request.headers else response
