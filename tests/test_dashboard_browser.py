"""The dashboard in headless Chromium: real counts drawn, both widths, the token flow, a strict CSP."""

import pytest

from counter_app import create_app
from counter_app.store import get_store
from scripts.screenshot import demo_rows, shoot
from tests.conftest import NOW
from tests.live import LiveServer

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HITS = {(20261120, "PAGEVIEW"): 5, (20261127, "PAGEVIEW"): 2, (20261125, "SIGNUP"): 1}


def serve(tmp_path, **config):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/b.sqlite3", "CLOCK": lambda: NOW, **config})
    app.after_request(lambda response: response.headers.set("Content-Security-Policy", STRICT_CSP) or response)
    with app.app_context():
        get_store().write_many([(day, event, n) for (day, event), n in HITS.items()])
    return LiveServer(app)


def watch(page):
    """Collect the console's complaints, CSP violations among them."""
    complaints = []
    page.on("console", lambda msg: complaints.append(msg.text) if msg.type in ("error", "warning") else None)
    return complaints


def drawn(page):
    """``{(day, event): count}`` of the visible chart's points."""
    return page.eval_on_selector_all(
        "svg.chart g.series circle",
        """cs => cs.filter(c => c.closest('svg').checkVisibility())
                  .map(c => [+c.dataset.day, c.closest('g').dataset.event, +c.dataset.count])""",
    )


@pytest.mark.parametrize("width,chart", [(1280, "wide"), (375, "narrow")])
def test_chart_matches_the_counts(tmp_path, browser, width, chart):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    complaints = watch(page)
    try:
        with serve(tmp_path) as server:
            page.goto(server.url + "/dashboard")
            points = drawn(page)
            assert len(points) == 2 * 30
            assert {(d, e): n for d, e, n in points if n} == HITS
            assert page.is_visible(f"svg.chart-{chart}")
            assert page.locator(".legend li").all_inner_texts() == ["PAGEVIEW", "SIGNUP"]
            swatches = page.eval_on_selector_all(
                ".legend .swatch", "s => s.map(e => getComputedStyle(e).backgroundColor)"
            )
            assert swatches == ["rgb(0, 114, 178)", "rgb(230, 159, 0)"]
            assert page.locator("table.totals tbody tr").all_inner_texts() == ["PAGEVIEW\t7", "SIGNUP\t1"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            box = page.locator(f"svg.chart-{chart}").bounding_box()
            assert box["width"] > 0.8 * min(width, 1000) - 32 and box["height"] > 200
            assert page.locator("text.axis-title").filter(visible=True).all_text_contents() == ["Day", "Count per day"]
    finally:
        context.close()
    assert complaints == []


@pytest.mark.parametrize("origins", ["*", "https://example.com"], ids=["any-origin", "other-origins-listed"])
def test_token_flow_and_download_links(tmp_path, page, origins):
    # The dashboard's own origin needs no listing: its form must work whatever sites may count.
    complaints = watch(page)
    with serve(tmp_path, READ_TOKEN="s3cret-read-token", ALLOWED_ORIGINS=origins) as server:
        reply = page.goto(server.url + "/dashboard?from=20261120&to=20261127")
        assert reply.status == 401
        page.fill("#token", "nope")
        page.click("button[type=submit]")
        assert page.locator(".error").inner_text() == "That token is not right."
        page.fill("#token", "s3cret-read-token")
        page.click("button[type=submit]")
        page.wait_for_selector("svg.chart-wide")
        assert page.url == server.url + "/dashboard?from=20261120&to=20261127"
        assert len(drawn(page)) == 2 * 8
        cookie = page.context.cookies()[0]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""
        with page.expect_download() as download:
            page.click("#csv-link")
        assert download.value.path().read_text().startswith("day,event,count\n20261120,PAGEVIEW,5\n")
        page.click("#json-link")
        page.wait_for_url("**/summary?*format=json")
        assert '"totals":{"PAGEVIEW":7,"SIGNUP":1}' in page.inner_text("body")
    # The 401 page and the JSON page's favicon request log failed loads; nothing may break the CSP.
    assert [c for c in complaints if "Refused" in c or "Content Security Policy" in c] == []


def test_screenshot_script_writes_a_small_png(tmp_path, browser):
    path = shoot(browser, tmp_path / "dashboard.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and 20_000 < len(data) < 200_000
    assert len(demo_rows()) > 60
