"""The documented snippets (README.md, docs/web.md) in headless Chromium, another origin's page, a strict CSP."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from counter_app import create_app
from tests.conftest import NOW
from tests.dynalite import free_port
from tests.live import LiveServer
from tests.pages import PageSite, RequestLog, page, snippets, wait_until

STAGE = "/prod"
EVENTS = ["PAGEVIEW", "SIGNUP", "LEAVE", "DOWNLOAD", "ORDER", "NOSCRIPT"]
NO_FETCH = "delete window.fetch"


def totals(app) -> dict[str, int]:
    return app.test_client().get("/summary").json["totals"]


def staged(app) -> RequestLog:
    """The app under an API Gateway-like stage path, with a log of what reached it."""
    return RequestLog(DispatcherMiddleware(NotFound(), {STAGE: app}))


def watch(browser_page) -> list[str]:
    """Collect uncaught errors and console errors of ``browser_page``."""
    errors: list[str] = []
    browser_page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    browser_page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return errors


def visit(browser, site: str, *, javascript: bool = True, init_script: str | None = None):
    """Open ``site`` in a fresh context; return the context, its page and the page's errors."""
    context = browser.new_context(java_script_enabled=javascript)
    if init_script:
        context.add_init_script(init_script)
    tab = context.new_page()
    errors = watch(tab)
    tab.goto(site + "/")
    return context, tab, errors


def test_the_docs_have_every_snippet_the_tests_load():
    assert list(snippets()) == ["script-tag", "click", "pixel", "leave", "fetch", "fetch-post", "badge"]
    for code in snippets().values():
        assert "https://api.example.com/prod" in code or "<script>" in code


def run_every_snippet(app, browser) -> tuple[RequestLog, list[str]]:
    """Load the snippets' page from another origin, with and without JavaScript, and use each snippet once.

    :returns: the log of what reached the API, and the pages' errors.
    """
    log = staged(app)
    with LiveServer(log) as api, LiveServer(PageSite(page(api.url + STAGE))) as site:
        context, tab, errors = visit(browser, site.url)
        # The fetch snippets read the JSON replies across origins.
        tab.wait_for_function("document.getElementById('downloads').textContent === '1'", timeout=10_000)
        tab.wait_for_function("document.getElementById('orders').textContent === '1'", timeout=10_000)
        tab.wait_for_function(
            "(img => img.complete && img.naturalWidth > 40)(document.querySelector('img[src*=\"badge.svg\"]'))",
            timeout=10_000,
        )
        wait_until(lambda: totals(app).get("PAGEVIEW") == 1, what="the script tag's PAGEVIEW")
        tab.click("#signup")
        wait_until(lambda: totals(app).get("SIGNUP") == 1, what="the click's SIGNUP")
        tab.goto(site.url + "/elsewhere")
        wait_until(lambda: totals(app).get("LEAVE") == 1, what="the pagehide send's LEAVE")
        context.close()

        context, _, noscript_errors = visit(browser, site.url, javascript=False)
        wait_until(lambda: totals(app).get("NOSCRIPT") == 1, what="the noscript pixel")
        context.close()
    return log, errors + noscript_errors


def test_each_snippet_counts_exactly_once(app, browser):
    log, errors = run_every_snippet(app, browser)
    assert totals(app) == dict.fromkeys(EVENTS, 1)
    assert log.requests("PREFLIGHT") == [("OPTIONS", "PREFLIGHT", "cors", 200)]
    # counter() used fetch with keepalive, not a beacon (blocklists refuse beacons to another site):
    # a CORS POST with a text/plain body, which needs no preflight.
    for event in ("PAGEVIEW", "SIGNUP", "LEAVE"):
        assert log.requests(event) == [("POST", event, "cors", 200)]
    assert log.requests("NOSCRIPT") == [("GET", "NOSCRIPT", "no-cors", 200)]
    assert errors == []


def not_the_snippets_own_fetch(errors: list[str]) -> list[str]:
    """The errors other than the documented fetch snippets failing in a browser without fetch."""
    return [error for error in errors if "fetch is not defined" not in error]


def test_counter_falls_back_to_send_beacon_without_fetch(app, browser):
    log = staged(app)
    with LiveServer(log) as api, LiveServer(PageSite(page(api.url + STAGE))) as site:
        context, tab, errors = visit(browser, site.url, init_script=NO_FETCH)
        wait_until(lambda: totals(app).get("PAGEVIEW") == 1, what="PAGEVIEW through sendBeacon")
        tab.click("#signup")
        wait_until(lambda: totals(app).get("SIGNUP") == 1, what="SIGNUP through sendBeacon")
        context.close()
    assert log.requests("PAGEVIEW") == [("POST", "PAGEVIEW", "no-cors", 200)]
    assert not_the_snippets_own_fetch(errors) == []


@pytest.mark.parametrize("referrer", [True, False], ids=["referer", "no-referrer"])
def test_unlisted_page_counts_nothing(tmp_path, browser, referrer):
    """The allowlist refuses the page: by Origin or Referer, or, under ``no-referrer``, by Sec-Fetch-Site."""
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW,
                      "ALLOWED_ORIGINS": "https://elsewhere.example"})
    log = staged(app)
    headers = None if referrer else {"Referrer-Policy": "no-referrer"}
    with LiveServer(log) as api, LiveServer(PageSite(page(api.url + STAGE), headers)) as site:
        context, tab, errors = visit(browser, site.url)
        wait_until(lambda: log.requests("DOWNLOAD") and log.requests("PREFLIGHT") and log.requests("badge.svg"),
                   what="the page's requests")
        assert tab.evaluate("typeof window.counter") == "undefined"
        tab.click("#signup")
        tab.goto(site.url + "/elsewhere")
        context.close()
        context, _, _ = visit(browser, site.url, javascript=False)
        wait_until(lambda: len(log.requests("badge.svg")) == 2 and log.requests("NOSCRIPT"), what="the pixel")
        context.close()

    refused = {"DOWNLOAD": [403], "PREFLIGHT": [403], "ORDER": [], "counter.js": [403], "badge.svg": [403, 403],
               "NOSCRIPT": [403], "PAGEVIEW": [], "SIGNUP": [], "LEAVE": []}
    assert {what: log.statuses(what) for what in refused} == refused
    assert totals(app) == {}
    assert not [error for error in errors if error.startswith("pageerror")]


HIDDEN_ORIGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>hidden origin</title></head>
<body>
<img src="{api}/pixel.gif?e=PIXEL" alt="" width="1" height="1">
<img src="{api}/badge.svg?e=PIXEL" alt="badge">
<script async src="{api}/counter.js" data-event="SCRIPT"></script>
<script>fetch("{api}/?e=NOCORS", {{mode: "no-cors"}}).catch(function () {{}});</script>
</body></html>
"""


@pytest.mark.parametrize(
    ("host", "site", "allowed"),
    [("localhost", "cross-site", "https://elsewhere.example"), ("127.0.0.1", "same-site", "https://elsewhere.example"),
     ("localhost", "cross-site", "*")],
    ids=["cross-site", "same-site", "no-allowlist"],
)
def test_a_page_hiding_its_origin_counts_nothing(tmp_path, browser, host, site, allowed):
    """``<meta name="referrer" content="no-referrer">`` hides Origin and Referer; Sec-Fetch-Site still tells.

    The page is on another host (``localhost``: another site) or another port of the API's (same site).
    Without an allowlist the same page counts, which shows each of its requests would otherwise get through.
    """
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW, "ALLOWED_ORIGINS": allowed})
    log = staged(app)
    with LiveServer(log) as api:
        with LiveServer(PageSite(HIDDEN_ORIGIN_PAGE.format(api=api.url + STAGE))) as pages:
            context, tab, errors = visit(browser, pages.url.replace("127.0.0.1", host))
            expected = ["PIXEL", "badge.svg", "counter.js", "NOCORS"] + (["SCRIPT"] if allowed == "*" else [])
            wait_until(lambda: all(log.requests(what) for what in expected), what="the page's requests")
            context.close()

    for what in ("PIXEL", "badge.svg", "counter.js", "NOCORS"):
        assert log.origin_headers(what) == [{"Sec-Fetch-Site": site}], what
        assert log.statuses(what) == ([200] if allowed == "*" else [403]), what
    if allowed == "*":
        assert totals(app) == {"PIXEL": 1, "NOCORS": 1, "SCRIPT": 1}
    else:
        assert totals(app) == {} and log.requests("SCRIPT") == []
    assert not [error for error in errors if error.startswith("pageerror")]


def network_failures_only(errors: list[str]) -> list[str]:
    """The errors that are not the browser reporting a failed load (it logs those whatever the page does)."""
    return [error for error in errors if not error.startswith("console: Failed to load resource")]


def test_page_survives_api_that_never_answers(browser):
    dead = f"http://127.0.0.1:{free_port()}{STAGE}"
    with LiveServer(PageSite(page(dead))) as site:
        context, tab, errors = visit(browser, site.url)
        tab.wait_for_load_state("load")
        tab.click("#signup")
        tab.goto(site.url + "/elsewhere")
        context.close()
    assert network_failures_only(errors) == []


@pytest.mark.parametrize(
    "init_script,before",
    [(None, {"PAGEVIEW": 1, "DOWNLOAD": 1, "ORDER": 1}), (NO_FETCH, {"PAGEVIEW": 1})],
    ids=["fetch", "beacon"],
)
def test_script_survives_api_going_down(app, browser, init_script, before):
    api = LiveServer(staged(app))
    with LiveServer(PageSite(page(api.url + STAGE))) as site:
        with api:
            context, tab, errors = visit(browser, site.url, init_script=init_script)
            wait_until(lambda: totals(app) == before, what="the page's counts before the API goes down")
        tab.click("#signup")
        sends = tab.evaluate("""() => {
            let sends = 0;
            for (const [owner, name] of [[navigator, "sendBeacon"], [window, "fetch"]]) {
                const original = owner[name];
                if (original) owner[name] = function () { sends++; return original.apply(this, arguments); };
            }
            counter(); counter(null); counter(5); counter({}); counter("");
            return sends;
        }""")
        tab.evaluate("counter('X'); counter(); counter({toString: null}); counter('a'.repeat(100000))")
        tab.goto(site.url + "/elsewhere")
        context.close()
    assert sends == 0  # calls without an event name send nothing
    assert not_the_snippets_own_fetch(network_failures_only(errors)) == []
    assert totals(app) == before
