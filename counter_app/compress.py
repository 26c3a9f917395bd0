"""gzip for text replies when the client accepts it: the dashboard's SVGs and long summaries shrink tenfold.

The standard library's gzip, not a package: Flask-Compress pulls in the compiled brotli, which the
Lambda zip would then need built for its architecture; gzip alone is what every browser accepts.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = {"text/html", "text/css", "text/csv", "text/javascript", "application/json", "image/svg+xml"}
MIN_SIZE = 1024  # below this the gzip header and the CPU cost outweigh what is saved
LEVEL = 6


def compress(response: Response) -> Response:
    """gzip the body of a text reply that is worth it, if the request accepts gzip."""
    if (
        response.mimetype not in COMPRESSIBLE
        or response.direct_passthrough  # send_file: a file that may answer ranges and conditional requests
        or response.is_streamed
        or "Content-Encoding" in response.headers
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:  # the same reply whatever the request accepts: nothing for caches to tell apart
        return response
    response.vary.add("Accept-Encoding")  # caches must not hand a gzipped copy to a client that cannot read it
    if request.accept_encodings["gzip"] <= 0:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    """Compress every reply that qualifies, errors included."""
    app.after_request(compress)
