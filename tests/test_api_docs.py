"""The retry loops docs/api.md shows count exactly once against a counter that loses a reply or answers 503."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.live import LiveServer
from tests.proxy import Proxy

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
PLACEHOLDER = "https://api.example.com/prod/"


def block(language: str, holding: str) -> str:
    """The one fenced ``language`` block of docs/api.md that holds ``holding``."""
    found = [code for code in re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S) if holding in code]
    assert len(found) == 1, found
    return found[0]


def totals(app) -> dict[str, int]:
    return app.test_client().get("/summary").json["totals"]


def fail_first_attempt(app, monkeypatch) -> None:
    with app.app_context():
        store = get_store()
    original, seen = store.incr_once, set()

    def incr_once(day, event, key, **options):
        if key not in seen:
            seen.add(key)
            raise StoreUnavailable("the first attempt fails", transient=True)
        return original(day, event, key, **options)

    monkeypatch.setattr(store, "incr_once", incr_once)


def curl(url: str) -> dict:
    script = block("sh", "--retry").replace(PLACEHOLDER, url)
    done = subprocess.run(["bash", "-euc", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def python(url: str) -> dict:
    namespace: dict = {}
    exec(block("python", "def count("), namespace)  # noqa: S102 - the documented code, run as a reader would
    return namespace["count"]("signup", api=url)


@pytest.mark.parametrize("run", [curl, python], ids=["curl", "python"])
@pytest.mark.parametrize("fault", ["reply-lost", "503"])
def test_the_documented_retry_loop_counts_once(app, monkeypatch, run, fault):
    if fault == "503":
        fail_first_attempt(app, monkeypatch)
    with LiveServer(app) as api, Proxy(api.server.server_port) as front:
        front.drop = 1 if fault == "reply-lost" else 0
        reply = run(front.url + "/")
    assert totals(app) == {"SIGNUP": 1}
    # A lost reply came after the write, so the retry found the id; a 503 wrote nothing, so the retry counted.
    assert reply == {"status": "success", "eventkey": "SIGNUP", "day": 20261127, "count": 1,
                     **({"duplicate": True} if fault == "reply-lost" else {})}
    assert front.drop == 0 and len(front.dropped) == (fault == "reply-lost")
