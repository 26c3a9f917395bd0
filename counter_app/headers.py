"""Security headers: nosniff everywhere, and a locked-down policy for anything a browser renders."""

from __future__ import annotations

from flask import Flask, Response

RENDERED = {"text/html", "image/svg+xml"}  # an SVG opened directly can run script like a page
RENDERED_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null"
    # with the dashboard's own form POST, which the origin allowlist must refuse.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def secure(response: Response) -> Response:
    """Add the headers a route has not set itself."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype in RENDERED:
        for name, value in RENDERED_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response, errors included."""
    app.after_request(secure)
