"""Request bodies through gunicorn: the 16 KiB limit and the framing hold, whatever the framing.

Werkzeug's test client and dev server frame bodies themselves; gunicorn ends the stream
for the app, which is where a chunked body used to be cut short and counted.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.http_load import gunicorn
from tests.dynalite import ROOT

LIMIT = 16 * 1024
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FORM, TEXT, JSON = "application/x-www-form-urlencoded", "text/plain", "application/json"


class Server:
    """A gunicorn serving ``wsgi:app`` on one store, spoken to over raw sockets."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log

    def send(self, head: bytes, body: bytes = b"", *, half_close: bool = False) -> tuple[int, dict]:
        """Send ``head`` and ``body`` (from a thread, so an early reply is read); return status and JSON."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=20)

        def write() -> None:
            try:
                sock.sendall(head + body)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:  # the server answered and closed before reading it all
                pass

        writer = threading.Thread(target=write)
        writer.start()
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except ConnectionResetError:
            pass
        writer.join(timeout=20)
        sock.close()
        status_line, _, rest = reply.partition(b"\r\n")
        return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])

    def post(self, content_type: str, headers: str) -> bytes:
        return (f"POST / HTTP/1.1\r\nHost: counter\r\nUser-Agent: {BROWSER}\r\nContent-Type: {content_type}\r\n"
                f"{headers}Connection: close\r\n\r\n").encode()

    def chunked(self, content_type: str, body: bytes, size: int = 4096) -> tuple[int, dict]:
        parts = [body[n:n + size] for n in range(0, len(body), size)]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)
        return self.send(self.post(content_type, "Transfer-Encoding: chunked\r\n"), chunks + b"0\r\n\r\n")

    def sized(self, content_type: str, body: bytes, length: int | None = None, **options) -> tuple[int, dict]:
        length = len(body) if length is None else length
        return self.send(self.post(content_type, f"Content-Length: {length}\r\n"), body, **options)

    def totals(self) -> dict[str, int]:
        head = b"GET /summary HTTP/1.1\r\nHost: counter\r\nConnection: close\r\n\r\n"
        return self.send(head)[1]["totals"]


@pytest.fixture(scope="module", params=["sqlite", "dynalite"])
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bodies")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("COUNTER_", "AWS_"))}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
    if request.param == "sqlite":
        env["COUNTER_STORE"] = f"sqlite:///{tmp}/bodies.sqlite3"
    else:
        dynalite = request.getfixturevalue("dynalite")
        env |= {"COUNTER_STORE": "dynamodb://", "COUNTER_TABLE_PREFIX": f"T{uuid.uuid4().hex[:12]}",
                "AWS_ENDPOINT_URL_DYNAMODB": dynalite.endpoint}
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-table"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
    with gunicorn("wsgi:app", env, tmp / "gunicorn.log") as (url, _):
        yield Server(urlsplit(url).port, tmp / "gunicorn.log")


@pytest.fixture
def fresh(server):
    """The server, with a check afterwards that nothing went to the log as a traceback."""
    yield server
    log = server.log.read_text()
    assert "Traceback" not in log and "unhandled error" not in log


def test_chunked_bodies_within_the_limit_count(fresh):
    assert fresh.chunked(TEXT, b"e=CHUNKED_TEXT")[1]["count"] == 1
    assert fresh.chunked(FORM, b"e=CHUNKED_FORM")[1]["count"] == 1
    assert fresh.chunked(JSON, b'{"e": "CHUNKED_JSON"}')[1]["count"] == 1
    exactly = b"e=AT_LIMIT&pad=" + b"p" * (LIMIT - len(b"e=AT_LIMIT&pad="))
    assert fresh.chunked(TEXT, exactly)[1]["count"] == 1
    assert fresh.sized(TEXT, exactly)[1]["count"] == 2
    counted = fresh.totals()
    assert {event: counted.get(event) for event in ("CHUNKED_TEXT", "CHUNKED_FORM", "CHUNKED_JSON", "AT_LIMIT")} == {
        "CHUNKED_TEXT": 1, "CHUNKED_FORM": 1, "CHUNKED_JSON": 1, "AT_LIMIT": 2}


def test_a_2_mb_chunked_text_body_is_413_and_counts_nothing(fresh):
    status, reply = fresh.chunked(TEXT, b"e=TWO_MB&pad=" + b"a" * 2_000_000)
    assert (status, reply["status"]) == (413, "failure")
    assert "TWO_MB" not in fresh.totals()


@pytest.mark.parametrize("content_type", [TEXT, FORM])
def test_a_body_one_byte_over_the_limit_is_413_however_it_is_framed(fresh, content_type):
    over = b"e=OVER&pad=" + b"p" * (LIMIT + 1 - len(b"e=OVER&pad="))
    assert fresh.chunked(content_type, over)[0] == 413
    assert fresh.sized(content_type, over)[0] == 413
    assert "OVER" not in fresh.totals()


@pytest.mark.parametrize("content_type", [TEXT, FORM])
def test_a_repeated_name_past_the_limit_is_413_chunked_as_with_a_length(fresh, content_type):
    body = b"e=FIRST&pad=" + b"p" * 17_000 + b"&e=SECOND"
    assert fresh.chunked(content_type, body)[0] == 413
    assert fresh.sized(content_type, body)[0] == 413
    assert not {"FIRST", "SECOND"} & set(fresh.totals())


@pytest.mark.parametrize("chunk", [b"zz\r\ne=BAD_CHUNK\r\n0\r\n\r\n", b"5\r\ne=BAD_CHUNKxxxx0\r\n\r\n"])
def test_a_malformed_chunk_is_400_json(fresh, chunk):
    status, reply = fresh.send(fresh.post(TEXT, "Transfer-Encoding: chunked\r\n"), chunk)
    assert (status, reply["status"]) == (400, "failure")
    assert "BAD_CHUNK" not in fresh.totals()


@pytest.mark.parametrize("content_type,body", [(TEXT, b"e=SHORT_TEXT"), (FORM, b"e=SHORT_FORM"),
                                               (JSON, b'{"e": "SHORT_JSON"}')])
def test_a_body_shorter_than_its_content_length_then_a_half_close_is_400(fresh, content_type, body):
    status, reply = fresh.sized(content_type, body, length=len(body) + 50, half_close=True)
    assert (status, reply["status"]) == (400, "failure")
    assert "Content-Length" in reply["error"]
    assert not [event for event in fresh.totals() if event.startswith("SHORT")]


def get(query: str, content_type: str, framing: str) -> bytes:
    return (f"GET /?{query} HTTP/1.1\r\nHost: counter\r\nUser-Agent: {BROWSER}\r\nContent-Type: {content_type}\r\n"
            f"{framing}Connection: close\r\n\r\n").encode()


@pytest.mark.parametrize("content_type,body", [(TEXT, b"pad=" + b"p" * 20_000), (FORM, b"pad=" + b"p" * 20_000),
                                               (JSON, b'{"pad": "' + b"p" * 20_000 + b'"}')])
def test_a_get_with_a_body_over_the_limit_is_413_however_it_is_framed(fresh, content_type, body):
    """Issue 19 §12: a GET's body was never read, so a 20 KB one was counted from its query string."""
    event = "GET_BODY_" + content_type.split("/")[1].upper().replace("-", "_")
    sized = fresh.send(get(f"e={event}", content_type, f"Content-Length: {len(body)}\r\n"), body)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:4096], body[4096:])) + b"0\r\n\r\n"
    chunked = fresh.send(get(f"e={event}", content_type, "Transfer-Encoding: chunked\r\n"), chunks)
    assert [sized[0], chunked[0]] == [413, 413]
    assert event not in fresh.totals()
    assert fresh.send(get(f"e={event}", content_type, "Content-Length: 6\r\n"), b"pad=ok")[1]["count"] == 1
