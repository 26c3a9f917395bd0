"""counter.js in Chromium: a fresh id for every hit, and retries with it when the API fails, each hit counted once."""

from __future__ import annotations

import io
import re
import threading
import time
from urllib.parse import parse_qs

import pytest
from werkzeug.wrappers import Request, Response

from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.live import LiveServer
from tests.pages import PageSite, wait_until

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HEX = re.compile(r"[0-9a-f]{32}")  # getRandomValues' 16 bytes, where randomUUID is missing


def page(api: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>retries</title></head><body>\n'
        f'<script src="{api}/counter.js" data-event="PAGEVIEW"></script>\n'
        '<button id="go">go</button>\n'
        "<script>document.getElementById('go').addEventListener('click', function () { counter('CLICK'); });"
        "</script>\n</body></html>\n"
    )


class Attempts:
    """What counter.js sent: (event, id) per attempt that reached the store, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    def add(self, event: str, key: str | None) -> None:
        with self.lock:
            self.seen.append((event, key))

    def ids(self, event: str) -> list[str | None]:
        with self.lock:
            return [key for seen, key in self.seen if seen == event]


def watch_store(app, monkeypatch, attempts: Attempts, fail_first: bool) -> None:
    """Record each idempotent increment the store is asked for; with ``fail_first``, the first per id is a 503."""
    with app.app_context():
        store = get_store()
    original, failed = store.incr_once, set()

    def incr_once(day, event, key, **options):
        attempts.add(event, key)
        if fail_first and key not in failed:
            failed.add(key)
            raise StoreUnavailable("the first attempt of each hit fails", transient=True)
        return original(day, event, key, **options)

    monkeypatch.setattr(store, "incr_once", incr_once)


class ThrottleFirst:
    """WSGI middleware answering 429 to the first attempt of each id, as API Gateway's throttle does: no CORS
    headers, so the browser reports a network error rather than the status."""

    def __init__(self, app, attempts: Attempts) -> None:
        self.app, self.attempts, self.throttled = app, attempts, set()

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        environ["wsgi.input"] = io.BytesIO(body)
        fields = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        key = fields.get("id")
        if request.method == "POST" and key and key not in self.throttled:
            self.throttled.add(key)
            self.attempts.add(fields.get("e", "").upper(), key)
            return Response('{"message":"Too Many Requests"}', status=429)(environ, start_response)
        return self.app(environ, start_response)


def totals(app) -> dict[str, int]:
    return app.test_client().get("/summary").json["totals"]


def visit(browser, site: str, init_script: str | None = None):
    context = browser.new_context()
    if init_script:
        context.add_init_script(init_script)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(site + "/")
    return context, tab, errors


@pytest.mark.parametrize("failure", ["503", "429"])
def test_each_hit_is_counted_once_when_its_first_attempt_fails(app, browser, monkeypatch, failure):
    attempts = Attempts()
    watch_store(app, monkeypatch, attempts, fail_first=failure == "503")
    api = LiveServer(ThrottleFirst(app, attempts) if failure == "429" else app)
    with api, LiveServer(PageSite(page(api.url))) as site:
        context, tab, errors = visit(browser, site.url)
        wait_until(lambda: totals(app).get("PAGEVIEW") == 1, what="PAGEVIEW after its retry")
        tab.click("#go")
        tab.click("#go")
        wait_until(lambda: totals(app).get("CLICK") == 2, what="both CLICKs after their retries")
        time.sleep(1.5)  # long past the first retry's 0.5 s: a second retry of any hit would have come
        context.close()
    assert totals(app) == {"PAGEVIEW": 1, "CLICK": 2}
    assert errors == []
    pageview, clicks = attempts.ids("PAGEVIEW"), attempts.ids("CLICK")
    # Each hit: a failed attempt, then one retry carrying the same id; two clicks are two hits with two ids.
    assert len(pageview) == 2 and pageview[0] == pageview[1]
    assert len(clicks) == 4 and len(set(clicks)) == 2 and all(clicks.count(key) == 2 for key in clicks)
    assert all(UUID.fullmatch(key) for key in pageview + clicks)


@pytest.mark.parametrize(
    "init_script,shape",
    [("delete Crypto.prototype.randomUUID", HEX), ("delete window.fetch", UUID)],
    ids=["no-randomuuid", "beacon"],
)
def test_fallbacks_send_a_fresh_id_too(app, browser, monkeypatch, init_script, shape):
    """Without randomUUID the id comes from getRandomValues; without fetch the beacon carries it."""
    attempts = Attempts()
    watch_store(app, monkeypatch, attempts, fail_first=False)
    with LiveServer(app) as api, LiveServer(PageSite(page(api.url))) as site:
        context, tab, errors = visit(browser, site.url, init_script)
        tab.click("#go")
        wait_until(lambda: totals(app) == {"PAGEVIEW": 1, "CLICK": 1}, what="both hits")
        context.close()
    keys = attempts.ids("PAGEVIEW") + attempts.ids("CLICK")
    assert len(keys) == 2 and len(set(keys)) == 2 and all(shape.fullmatch(key) for key in keys)
    assert errors == []


def test_a_hit_that_keeps_failing_is_tried_four_times_then_left(app, browser, monkeypatch):
    attempts = Attempts()
    with app.app_context():
        store = get_store()

    def down(day, event, key, **options):
        attempts.add(event, key)
        raise StoreUnavailable("down for the test", transient=True)

    monkeypatch.setattr(store, "incr_once", down)
    with LiveServer(app) as api, LiveServer(PageSite(page(api.url))) as site:
        context, tab, errors = visit(browser, site.url)
        wait_until(lambda: len(attempts.ids("PAGEVIEW")) == 4, timeout=10, what="four attempts")
        time.sleep(4.5)  # a fifth would come after 4 s
        context.close()
    keys = attempts.ids("PAGEVIEW")
    assert len(keys) == 4 and len(set(keys)) == 1
    assert totals(app) == {} and errors == []
