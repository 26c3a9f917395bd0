"""Request bodies read whole before use, so the size limit and the framing hold on every server."""

from __future__ import annotations

import io
from typing import IO, Any

import flask
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_content_length

READ_SIZE = 64 * 1024


class Request(flask.Request):
    """Flask's request, whose ``stream`` holds the whole body, checked against its framing and the limit.

    Werkzeug stops a chunked body quietly at ``MAX_CONTENT_LENGTH`` when the server ends
    the stream itself (gunicorn does): the rest is cut off and the request goes on. It also
    trusts such a server to read a whole ``Content-Length``, and a malformed chunk raises
    whatever the server raises. Reading here turns each of those into a 4xx first.
    """

    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        return io.BytesIO(read_body(self.environ, self.max_content_length))


def read_body(environ: dict[str, Any], limit: int | None) -> bytes:
    """The body of a WSGI request, read to its end.

    :raises RequestEntityTooLarge: if the body is longer than ``limit``, however it is framed.
    :raises BadRequest: if the body is malformed, or shorter than its ``Content-Length``.
    """
    length = get_content_length(environ)  # None: chunked, or no length at all
    if length is not None and limit is not None and length > limit:
        raise RequestEntityTooLarge()
    if length is None and "wsgi.input_terminated" not in environ:
        return b""  # the server does not end an unsized stream, so reading it could wait forever
    wanted = length if length is not None else None if limit is None else limit + 1
    stream, parts, got = environ["wsgi.input"], [], 0
    try:
        while wanted is None or got < wanted:
            part = stream.read(READ_SIZE if wanted is None else min(READ_SIZE, wanted - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
    # Each server raises its own error for a malformed chunk or a dropped
    # connection (gunicorn's are not even OSErrors); all of them are the client's.
    except Exception:
        raise BadRequest("The request body is malformed or was cut off.") from None
    if length is not None and got < length:
        raise BadRequest(f"The body ended after {got} of the {length} bytes its Content-Length announced.")
    if limit is not None and got > limit:
        raise RequestEntityTooLarge()
    return b"".join(parts)


def read_whole_body() -> None:
    """Read every request's body before its view, so one over the limit is 413 whatever the method.

    A GET's view never looks at its body, so without this a GET carrying 20 KB was counted.
    """
    flask.request.stream  # noqa: B018 (reading it checks the size and the framing)


def init_app(app: flask.Flask) -> None:
    """Make the app read request bodies through :class:`Request`, for every request."""
    app.request_class = Request
    app.before_request(read_whole_body)
