"""Serve WSGI apps on 127.0.0.1 in a background thread, for browser and HTTP tests."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server


class LiveServer:
    """A threaded Werkzeug server for ``app``; ``url`` is its base URL, without a trailing slash."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
