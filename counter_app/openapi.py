"""The API's own description: an OpenAPI 3 document kept next to the code it describes."""

from __future__ import annotations

import functools
import json

from flask import Blueprint, Response, current_app

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document() -> Response:
    """The OpenAPI 3 document of every route, parameter and reply."""
    return current_app.response_class(_document(current_app.root_path), mimetype="application/json")


@functools.cache
def _document(root: str) -> bytes:
    # Served without the file's indentation: a third smaller, and the largest reply the bill assumes (deploy/cost.py).
    with open(f"{root}/openapi.json", "rb") as file:
        return json.dumps(json.load(file), separators=(",", ":"), ensure_ascii=False).encode()
