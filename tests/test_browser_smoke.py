"""Chromium reaches the live app: the harness the browser tests build on."""

from tests.live import LiveServer


def test_chromium_counts_through_fetch(app, page):
    with LiveServer(app) as server:
        page.goto(server.url + "/healthz")
        reply = page.evaluate("fetch('/?e=browser').then(r => r.json())")
        assert reply["eventkey"] == "BROWSER" and reply["count"] == 1
    assert app.test_client().get("/summary").json["totals"] == {"BROWSER": 1}
