"""The dashboard in headless Chromium: counts drawn, both widths, ranges and grouping without script, partial
periods and the comparison, the token flow, a strict CSP, and the screenshots."""

import pytest

from counter_app import create_app
from counter_app.store import get_store
from scripts.screenshot import RANGES, WIDTHS, demo_rows, shoot
from tests.conftest import NOW
from tests.live import LiveServer

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HITS = {(20261120, "PAGEVIEW"): 5, (20261127, "PAGEVIEW"): 2, (20261125, "SIGNUP"): 1}


def serve(tmp_path, seed=(), **config):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/b.sqlite3", "CLOCK": lambda: NOW, **config})
    app.after_request(lambda response: response.headers.set("Content-Security-Policy", STRICT_CSP) or response)
    with app.app_context():
        get_store().write_many([(day, event, n) for (day, event), n in HITS.items()] + list(seed))
    return LiveServer(app)


def watch(page):
    """Collect the console's complaints, CSP violations among them."""
    complaints = []
    page.on("console", lambda msg: complaints.append(msg.text) if msg.type in ("error", "warning") else None)
    return complaints


def drawn(page):
    """``(day, event, count)`` of the visible main chart's points."""
    return page.eval_on_selector_all(
        "svg.chart-wide g.series circle, svg.chart-narrow g.series circle",
        """cs => cs.filter(c => c.closest('svg').checkVisibility())
                  .map(c => [+c.dataset.day, c.closest('g').dataset.event, +c.dataset.count])""",
    )


def counted(page):
    """``{(day, event): count}`` of the visible main chart's points that are not zero."""
    return {(d, e): n for d, e, n in drawn(page) if n}


def style(page, selector, *properties):
    """Computed values of ``properties`` for every element ``selector`` finds."""
    return page.eval_on_selector_all(
        selector, "(es, ps) => es.map(e => ps.map(p => getComputedStyle(e).getPropertyValue(p)))", list(properties)
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
            assert counted(page) == HITS
            assert page.is_visible(f"svg.chart-{chart}")
            assert page.locator(".legend li[data-event]").all_inner_texts() == ["PAGEVIEW", "SIGNUP"]
            swatches = page.eval_on_selector_all(
                ".legend .swatch", "s => s.map(e => getComputedStyle(e).backgroundColor)"
            )
            assert swatches == ["rgb(0, 114, 178)", "rgb(230, 159, 0)"]
            new = "new\nnew: none in the range before"  # what a reader sees, then what a screen reader says
            assert page.locator("table.totals tbody tr").all_inner_texts() == [f"PAGEVIEW\t7\t0\t{new}",
                                                                               f"SIGNUP\t1\t0\t{new}"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            box = page.locator(f"svg.chart-{chart}").bounding_box()
            assert box["width"] > 0.8 * min(width, 1000) - 32 and box["height"] > 200
            assert page.locator("text.axis-title").filter(visible=True).all_text_contents() == ["Day", "Count per day"]
            # Each event also has a chart of its own: side by side on a desktop, one under the other on a phone.
            small = [page.locator(f"figure.multiple[data-event={event}] svg").bounding_box()
                     for event in ("PAGEVIEW", "SIGNUP")]
            assert (small[0]["y"] == small[1]["y"]) == (width > 600)
            assert all(box["width"] > 250 and box["height"] > 90 for box in small)
    finally:
        context.close()
    assert complaints == []


def test_presets_arrows_dates_and_grouping_work_without_script(tmp_path, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    try:
        with serve(tmp_path) as server:
            page.goto(server.url + "/dashboard")
            page.click("nav.periods >> text=7 days")
            assert page.url.endswith("/dashboard?from=20261121&to=20261127")
            assert page.locator(".presets [aria-current=page]").inner_text() == "7 days"
            assert counted(page) == {(20261127, "PAGEVIEW"): 2, (20261125, "SIGNUP"): 1}
            page.click("a[rel=prev]")
            assert page.url.endswith("/dashboard?from=20261114&to=20261120")
            assert counted(page) == {(20261120, "PAGEVIEW"): 5}
            page.click("a[rel=next]")
            assert page.url.endswith("/dashboard?from=20261121&to=20261127")
            # What a date picker sends, and a grouping, through the plain GET form.
            page.fill("input[name=from]", "2026-11-02")
            page.fill("input[name=to]", "2026-11-27")
            page.select_option("select[name=group]", "week")
            page.click("form.range button")
            assert "from=2026-11-02&to=2026-11-27" in page.url and "group=week" in page.url
            assert page.locator("#chart-title").inner_text() == "Weekly counts, 2 Nov – 27 Nov 2026"
            assert [d for d, e, n in drawn(page) if e == "PAGEVIEW"] == [20261102, 20261109, 20261116, 20261123]
            assert counted(page) == {(20261116, "PAGEVIEW"): 5, (20261123, "PAGEVIEW"): 2, (20261123, "SIGNUP"): 1}
            page.click("table.totals >> text=SIGNUP")  # an event's name shows it alone, on its own scale
            assert page.url.endswith("/dashboard?from=20261102&to=20261127&e=SIGNUP&group=week")
            assert page.locator(".legend li[data-event]").all_inner_texts() == ["SIGNUP"]
            page.click("nav.periods >> text=Last month")  # a preset keeps the events, and groups by itself
            assert page.url.endswith("/dashboard?from=20261001&to=20261031&e=SIGNUP")
            assert page.locator("select[name=group]").input_value() == ""
    finally:
        context.close()


def test_partial_present_and_comparison_read_without_colour(tmp_path, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        with serve(tmp_path, seed=[(20261015, "PAGEVIEW", 20), (20261015, "SIGNUP", 20)]) as server:
            page.goto(server.url + "/dashboard")
            # The present day: its dot hollow (filled with the paper's colour), the line into it dashed.
            partial = style(page, "svg.chart-wide circle.partial", "fill", "stroke")
            assert partial == [["rgb(255, 255, 255)", "rgb(0, 114, 178)"], ["rgb(255, 255, 255)", "rgb(230, 159, 0)"]]
            assert page.eval_on_selector_all(
                "svg.chart-wide circle.partial", "cs => cs.map(c => +c.dataset.day)") == [20261127, 20261127]
            whole = style(page, "svg.chart-wide g.s0 circle:not(.partial)", "fill")
            assert len(whole) == 29 and {fill for (fill,) in whole} == {"rgb(0, 114, 178)"}
            dashes = style(page, "svg.chart-wide polyline", "stroke-dasharray")
            assert sorted(d for (d,) in dashes) == ["5px, 4px", "5px, 4px", "none", "none"]
            # Each change has its arrow and sign; colour only adds to them.
            assert page.locator("td.change [aria-hidden]").all_inner_texts() == ["▼ −65%", "▼ −95%"]
            assert style(page, "td.change", "color") == [["rgb(166, 60, 0)"], ["rgb(166, 60, 0)"]]
            assert page.locator("td.change .visually-hidden").all_text_contents() == [
                "down 65% on the range before", "down 95% on the range before"]
            assert page.locator("text=Compared with 29 Sep – 28 Oct 2026.").is_visible()
    finally:
        context.close()


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
        assert download.value.path().read_text().startswith("day,event,count,visitors\n20261120,PAGEVIEW,5,0\n")
        page.click("#json-link")
        page.wait_for_url("**/summary?*format=json")
        assert '"totals":{"PAGEVIEW":7,"SIGNUP":1}' in page.inner_text("body")
    # The 401 page and the JSON page's favicon request log failed loads; nothing may break the CSP.
    assert [c for c in complaints if "Refused" in c or "Content Security Policy" in c] == []


def test_screenshot_script_writes_each_range_at_each_width(tmp_path, browser):
    paths = shoot(browser, tmp_path)
    assert sorted(path.name for path in paths) == sorted(
        f"dashboard-{name}-{width}.png" for name in RANGES for width in WIDTHS)
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and 20_000 < len(data) < 400_000
        width = int.from_bytes(data[16:20], "big")  # the IHDR chunk: no page wider than its viewport
        assert width == int(path.stem.rsplit("-", 1)[1])
    assert len(demo_rows()) > 5 * 700


def test_wide_changes_stay_inside_the_totals_at_375_px(tmp_path, browser):
    """Big percentages and long totals at a phone's width: no sideways scroll, no cell cut off."""
    seed = [(20261001, "PAGEVIEW_FROM_THE_NEWSLETTER", 100), (20261101, "PAGEVIEW_FROM_THE_NEWSLETTER", 2455),
            (20261001, "SIGNUP", 1_000_000), (20261101, "SIGNUP", 12_345_678), (20261101, "FEW", 54),
            (20261001, "FEW", 2)]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        with serve(tmp_path, seed) as server:
            page.goto(server.url + "/dashboard")
            shown = page.locator("td.change span[aria-hidden]").all_inner_texts()
            assert {"▲ +1,135%", "▲ +2,355%", "▲ +52"} <= set(shown)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            clipped = page.eval_on_selector_all(
                "table.totals td, table.totals th",
                "cells => cells.filter(c => c.scrollWidth > c.clientWidth)"
                ".map(c => [c.innerText, c.scrollWidth, c.clientWidth])")
            assert clipped == []
    finally:
        context.close()
