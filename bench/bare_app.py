"""The floor: a bare Flask endpoint that answers like ``GET /?e=...`` without counting."""

from __future__ import annotations

import itertools

from flask import Flask, Response, jsonify, request

app = Flask(__name__)
_counts = itertools.count(1)


@app.route("/", methods=["GET", "POST"])
def increment() -> Response:
    """Answer with the same JSON shape and headers as the counter, from memory."""
    response = jsonify(
        status="success", eventkey=request.args.get("e", "").upper(), day=20261127, count=next(_counts)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
