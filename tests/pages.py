"""Test pages built from the documented snippets, a server for them, and a request log for the API."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "web.md")  # where the snippets people copy live
PLACEHOLDER = "https://api.example.com/prod"
_SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\n```html\n(.*?)\n```", re.S)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
ORIGIN_HEADERS = ("Origin", "Referer", "Sec-Fetch-Site")


def snippets() -> dict[str, str]:
    """The fenced HTML blocks of the README and docs/web.md that follow a ``<!-- snippet: NAME -->`` marker."""
    found = [pair for document in DOCUMENTS for pair in _SNIPPET.findall(document.read_text())]
    named = dict(found)
    assert len(named) == len(found), "two snippets share a name"
    return named


def page(api: str) -> str:
    """A page holding every snippet, pointed at ``api``, under a strict CSP that allows only ``api``.

    The page's own inline scripts are allowed by their hashes, as a strict policy does it.
    """
    body = "\n".join(snippets().values()).replace(PLACEHOLDER, api)
    origin = re.match(r"[a-z]+://[^/]+", api).group(0)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
        for code in _INLINE_SCRIPT.findall(body)
    )
    csp = f"default-src 'none'; script-src {origin} {hashes}; connect-src {origin}; img-src {origin}"
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        f"<title>counter snippets</title></head>\n<body>\n{body}\n</body></html>\n"
    )


class PageSite:
    """A WSGI app serving ``html`` at ``/`` (with ``headers``) and a plain page at ``/elsewhere`` to navigate to."""

    def __init__(self, html: str, headers: dict[str, str] | None = None) -> None:
        self.html = html
        self.headers = headers or {}

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "/")
        if path == "/":
            response = Response(self.html, mimetype="text/html", headers=self.headers)
        elif path == "/favicon.ico":
            response = Response(status=204)
        elif path == "/elsewhere":
            response = Response("<!doctype html><title>elsewhere</title><p>elsewhere</p>", mimetype="text/html")
        else:
            response = Response("not here", status=404, mimetype="text/plain")
        return response(environ, start_response)


class RequestLog:
    """WSGI middleware that records ``(method, what, fetch mode, status)`` of every request.

    ``what`` is the counted event, ``"PREFLIGHT"`` for OPTIONS, or the file asked for, such as ``counter.js``.
    """

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str, int]] = []
        self.fetched: list[tuple[str, str, str]] = []  # Sec-Fetch-Dest, Sec-Fetch-Mode, path and query
        self.sent: list[tuple[str, dict[str, str]]] = []  # what, and the headers that say where it came from
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        body = request.get_data()
        environ["wsgi.input"] = io.BytesIO(body)
        if request.method == "OPTIONS":
            what = "PREFLIGHT"
        elif request.path.endswith(("/", "/mark.gif", "/pixel.gif")):
            what = (request.args.get("e") or _event_in(body) or "").upper()
        else:
            what = request.path.rpartition("/")[2]
        mode = request.headers.get("Sec-Fetch-Mode", "")

        def record(status: str, headers: list, *args: Any) -> Any:
            with self.lock:
                self.seen.append((request.method, what, mode, int(status.split()[0])))
                self.fetched.append((request.headers.get("Sec-Fetch-Dest", ""), mode, request.full_path.rstrip("?")))
                self.sent.append((what, {name: request.headers[name] for name in ORIGIN_HEADERS
                                         if name in request.headers}))
            return start_response(status, headers, *args)

        return self.app(environ, record)

    def requests(self, what: str) -> list[tuple[str, str, str, int]]:
        """The requests for ``what``: method, what, mode, status."""
        with self.lock:
            return [seen for seen in self.seen if seen[1] == what]

    def origin_headers(self, what: str) -> list[dict[str, str]]:
        """The Origin, Referer and Sec-Fetch-Site of each request for ``what``."""
        with self.lock:
            return [headers for seen, headers in self.sent if seen == what]

    def statuses(self, what: str) -> list[int]:
        """The statuses answered for ``what``."""
        return [seen[-1] for seen in self.requests(what)]


def _event_in(body: bytes) -> str | None:
    text = body.decode("utf-8", "replace")
    match = re.search(r'"e"\s*:\s*"([^"]*)"', text)
    return match.group(1) if match else (parse_qs(text).get("e") or [None])[0]


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert result, f"timed out after {timeout}s waiting for {what}"
    return result
