"""Every error leaves as JSON: ``{"status": "failure", "error": "..."}``."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .storage import CounterAtLimit, StoreUnavailable, TooManyEvents

RETRY_AFTER_SECONDS = 1


def failure(status: int, error: str) -> Response:
    """A JSON failure reply."""
    response = jsonify(status="failure", error=error)
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> Response:
    response = failure(exc.code or 500, exc.description or exc.name)
    response.headers.extend(
        (name, value) for name, value in exc.get_headers() if name.lower() != "content-type"
    )
    return response


def _store_unavailable(exc: StoreUnavailable) -> Response:
    current_app.logger.error(
        "store unavailable", extra={"fields": {"path": request.path, "reason": str(exc)}}
    )
    if not exc.transient:  # a read-only file, a full disk, a missing table: retrying soon will not help
        return failure(503, "The counter store is unavailable until its operator fixes it.")
    response = failure(503, "The counter store is unavailable right now; please retry shortly.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _too_many_events(exc: TooManyEvents) -> Response:
    current_app.logger.warning("event refused", extra={"fields": {"path": request.path, "reason": str(exc)}})
    if isinstance(exc, CounterAtLimit):
        return failure(409, "This counter already holds the largest count it can keep; it was not changed.")
    return failure(409, "This day already counts as many distinct events as allowed; the events it has still count.")


def _unexpected(exc: Exception) -> Response:
    current_app.logger.error(
        "unhandled error", exc_info=exc, extra={"fields": {"path": request.path}}
    )
    return failure(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(TooManyEvents, _too_many_events)
    app.register_error_handler(Exception, _unexpected)
