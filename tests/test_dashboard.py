"""The dashboard through Flask's test client: rendering, ranges, and the read cookie."""

import gzip
import re
import sqlite3
from datetime import timedelta

import pytest

from counter_app import create_app, days
from counter_app.chart import compact, nice_ticks
from counter_app.dashboard import MAX_ROWS, change
from counter_app.store import get_store
from tests.conftest import NOW, TODAY


@pytest.fixture
def private(tmp_path):
    return create_app(
        {"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "s3cret-read-token", "CLOCK": lambda: NOW}
    ).test_client()


def chart(html, name="wide"):
    """The SVG of one chart: wide, narrow, or the small chart of an event (``small:EVENT``)."""
    if name.startswith("small:"):
        figure = re.search(rf'<figure class="multiple" data-event="{name[6:]}">(.*?)</figure>', html, re.S).group(1)
        return re.search(r"<svg class=\"chart chart-small\".*?</svg>", figure, re.S).group(0)
    return re.search(rf'<svg class="chart chart-{name}".*?</svg>', html, re.S).group(0)


def points(html, event, name="wide"):
    """``(day, count)`` of an event's dots in one chart."""
    group = re.search(rf'<g class="series s\w" data-event="{event}">(.*?)</g>', chart(html, name), re.S).group(1)
    return [(int(d), int(n)) for d, n in re.findall(r'data-day="(\d+)" data-count="(\d+)"', group)]


def partial_days(html, event, name="wide"):
    group = re.search(rf'<g class="series s\w" data-event="{event}">(.*?)</g>', chart(html, name), re.S).group(1)
    return [int(d) for d in re.findall(r'<circle class="partial"[^>]*data-day="(\d+)"', group)]


def row(html, event):
    """The cells of an event's row in the totals table, as text a sighted reader sees."""
    found = re.search(rf'<tr data-event="{event}">(.*?)</tr>', html, re.S).group(1)
    found = re.sub(r'<span class="visually-hidden">.*?</span>', "", found)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found, re.S)]


def seed(app, rows):
    with app.app_context():
        get_store().write_many(rows)


def test_default_range_draws_every_day_with_zeros(client):
    client.get("/?e=A&c=20261120")
    client.get("/?e=A&c=20261120")
    client.get("/?e=B")
    reply = client.get("/dashboard")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert reply.headers["Cache-Control"] == "no-store"
    drawn = points(html, "A")
    assert len(drawn) == 30
    assert drawn[0] == (20261029, 0) and drawn[-1] == (TODAY, 0)
    assert dict(drawn)[20261120] == 2
    assert dict(points(html, "B"))[TODAY] == 1
    assert points(html, "A", "narrow") == drawn  # 30 days: the narrow chart has every dot too
    assert row(html, "A")[:4] == ["A", "2", "0", "new"]
    assert "/summary?from=20261029&amp;to=20261127&amp;format=csv" in html
    assert "Daily counts, 29 Oct – 27 Nov 2026" in html
    assert "<script" not in html and "style=" not in html


def test_today_is_drawn_partial(client):
    client.get("/?e=A&c=20261126")
    client.get("/?e=B")
    html = client.get("/dashboard").get_data(as_text=True)
    for name in ("wide", "narrow", "small:A"):
        assert partial_days(html, "A", name) == [TODAY]
    series = re.search(r'<g class="series s\w" data-event="A">(.*?)</g>', chart(html), re.S).group(1)
    lines = re.findall(r"<polyline( class=\"dashed\")? points=\"([^\"]+)\"", series)
    # One solid line through the 29 whole days, one dashed line from yesterday into today.
    assert [(dashed != "", len(xy.split())) for dashed, xy in lines] == [(False, 29), (True, 2)]


def test_range_and_event_filter_carry_into_links(client):
    client.get("/?e=A&c=20261101")
    client.get("/?e=B&c=20261101")
    html = client.get("/dashboard?from=20261101&to=20261102&e=b").get_data(as_text=True)
    assert points(html, "B")[:2] == [(20261101, 1), (20261102, 0)]
    assert 'data-event="A"' not in html
    assert "/summary?from=20261101&amp;to=20261102&amp;e=b&amp;format=json" in html
    assert "One event shown on its own" in html
    assert 'id="all-events" href="/dashboard?from=20261101&amp;to=20261102"' in html


def test_iso_dates_and_cleared_inputs(client):
    client.get("/?e=A&c=20261101")
    iso = client.get("/dashboard?from=2026-11-01&to=2026-11-02").get_data(as_text=True)
    assert iso == client.get("/dashboard?from=20261101&to=20261102").get_data(as_text=True)
    assert 'name="from" value="2026-11-01"' in iso and 'name="to" value="2026-11-02"' in iso
    # A cleared date input sends from= : the default range.
    cleared = client.get("/dashboard?from=&to=&group=&e=").get_data(as_text=True)
    assert 'name="from" value="2026-10-29"' in cleared and len(points(cleared, "A")) == 30


@pytest.mark.parametrize("span,group,periods", [
    ("from=20261029&to=20261127", "day", 30),
    ("from=20260829&to=20261127", "day", 91),  # 91 days: still days
    ("from=20260801&to=20261127", "week", 18),  # 119 days: weeks, the first one cut at 1 Aug
    ("from=20251127&to=20261127", "month", 13),  # 366 days: months
])
def test_default_grouping_follows_the_length(client, span, group, periods):
    client.get("/?e=A")
    html = client.get(f"/dashboard?{span}").get_data(as_text=True)
    assert f"Automatic ({group}s)" in html
    assert len(points(html, "A")) == periods
    assert partial_days(html, "A")[-1] == points(html, "A")[-1][0]  # the present period, not over yet
    assert f"partial {group}:" in html


def test_weeks_are_drawn_from_monday_with_partial_edges(client, app):
    seed(app, [(20261101, "A", 5), (20261102, "A", 7), (20261108, "A", 1), (20261115, "A", 2), (TODAY, "A", 3)])
    html = client.get("/dashboard?from=20261101&to=20261127&group=week").get_data(as_text=True)
    assert points(html, "A") == [(20261026, 5), (20261102, 8), (20261109, 2), (20261116, 0), (20261123, 3)]
    assert partial_days(html, "A") == [20261026, 20261123]  # cut by the range; not over yet
    assert "Weekly counts, 1 – 27 Nov 2026" not in html and "Weekly counts, 1 Nov – 27 Nov 2026" in html
    assert "A, week of 26 Oct 2026 (partial): 5" in html
    assert "/summary?from=20261101&amp;to=20261127&amp;group=week&amp;format=csv" in html
    assert '<option value="week" selected>' in html


def test_months_label_the_year_when_the_range_crosses_one(client, app):
    seed(app, [(20251215, "A", 1500), (20260110, "A", 2500)])
    html = client.get("/dashboard?from=20251201&to=20261127").get_data(as_text=True)
    ticks = re.findall(r'<text class="tick"[^>]*text-anchor="(?:start|middle|end)">([^<]+)</text>', chart(html))
    assert ticks[-1] == "Nov 2026" and "Jan 2026" in ticks and all(re.fullmatch(r"\w{3} 20\d\d", t) for t in ticks)
    assert dict(points(html, "A"))[20251201] == 1500
    assert "A, Jan 2026: 2,500" in html
    same_year = client.get("/dashboard?from=20260101&to=20261127&group=month").get_data(as_text=True)
    ticks = re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="\w+">([^<]+)</text>', chart(same_year))
    assert "Nov" in ticks and not [t for t in ticks if "20" in t]


def test_totals_compare_with_the_range_before(client, app):
    # 30 days ending today against the 30 days before: 29 Sep - 28 Oct.
    seed(app, [(20261001, "UP", 1000), (20261101, "UP", 1234), (20261001, "DOWN", 80), (20261101, "DOWN", 60),
               (20261101, "NEW", 3), (20261001, "GONE", 40), (20261001, "SAME", 50), (20261101, "SAME", 50),
               (20261001, "FEW", 2), (20261101, "FEW", 54),
               (20261028, "UP", 10**6), (20261029, "SMALL", 1000), (20261001, "SMALL", 999)])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Compared with 29 Sep – 28 Oct 2026." in html
    assert row(html, "UP") == ["UP", "1,234", "1,001,000", "▼ −100%"]
    assert row(html, "DOWN") == ["DOWN", "60", "80", "▼ −25%"]
    assert row(html, "NEW") == ["NEW", "3", "0", "new"]
    assert row(html, "GONE") == ["GONE", "0", "40", "▼ −100%"]
    assert row(html, "SAME") == ["SAME", "50", "50", "±0%"]
    # Sparse data: 2 then 54 is the counts' difference, marked, and the note says why, not "+2,600%".
    assert row(html, "FEW") == ["FEW", "54", "2", "▲ +52"]
    assert '<td class="change up small-base" title="up 52 on only 2 in the range before">' in html
    assert "A change in italics is a count: fewer than 20 before are too few for a percentage." in html
    assert row(html, "SMALL") == ["SMALL", "1,000", "999", "▲ +0.1%"]
    # Colour is a help, not the message: the arrow and sign say it, and screen readers get words.
    assert '<td class="change down"><span aria-hidden="true">▼ −25%</span>' in html
    assert '<span class="visually-hidden">down 25% on the range before</span>' in html
    assert '<td class="change up"><span aria-hidden="true">▲ +0.1%</span>' in html
    assert "All events" not in html


def test_month_ranges_compare_with_the_same_days_of_the_month_before(client, app):
    seed(app, [(20261027, "A", 100), (20261028, "A", 1000), (20261127, "A", 200)])
    html = client.get("/dashboard?from=20261101&to=20261127").get_data(as_text=True)
    assert "Compared with 1 – 27 Oct 2026." not in html and "Compared with 1 Oct – 27 Oct 2026." in html
    assert row(html, "A") == ["A", "200", "100", "▲ +100%"]


def test_presets_and_arrows(client):
    html = client.get("/dashboard").get_data(as_text=True)
    presets = dict((label, url) for url, label in re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', html))
    assert presets == {
        "Today": "/dashboard?from=20261127&amp;to=20261127",
        "7 days": "/dashboard?from=20261121&amp;to=20261127",
        "30 days": "/dashboard?from=20261029&amp;to=20261127",
        "90 days": "/dashboard?from=20260830&amp;to=20261127",
        "12 months": "/dashboard?from=20251201&amp;to=20261127",
        "This month": "/dashboard?from=20261101&amp;to=20261127",
        "Last month": "/dashboard?from=20261001&amp;to=20261031",
    }
    assert re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', html) == ["30 days"]
    assert 'rel="prev" href="/dashboard?from=20260929&amp;to=20261028"' in html
    assert 'rel="next"' not in html and '<span class="arrow" aria-disabled="true">Next' in html


@pytest.mark.parametrize("query,prev,next_", [
    ("from=20261001&to=20261031", "from=20260901&amp;to=20260930", "from=20261101&amp;to=20261127"),
    ("from=20261101&to=20261127", "from=20261001&amp;to=20261031", None),
    ("from=20260101&to=20260331&e=a&group=week", "from=20251001&amp;to=20251231&amp;e=a&amp;group=week",
     "from=20260401&amp;to=20260630&amp;e=a&amp;group=week"),
    ("from=20261110&to=20261119", "from=20261031&amp;to=20261109", "from=20261118&amp;to=20261127"),
])
def test_arrows_move_by_the_length_or_by_whole_months(client, query, prev, next_):
    html = client.get(f"/dashboard?{query}").get_data(as_text=True)
    assert f'rel="prev" href="/dashboard?{prev}"' in html
    if next_:
        assert f'rel="next" href="/dashboard?{next_}"' in html
    else:
        assert 'rel="next"' not in html


def test_each_event_has_its_own_scale_and_a_focus_link(client, app):
    seed(app, [(20261120, "BIG", 50_000), (20261121, "BIG", 40_000), (20261120, "TINY", 3), (20261121, "TINY", 1)])
    html = client.get("/dashboard").get_data(as_text=True)

    def top_tick(svg):
        return re.findall(r'dominant-baseline="middle">([^<]+)</text>', svg)[-1]

    assert top_tick(chart(html)) == "50k"
    assert top_tick(chart(html, "small:BIG")) == "50k"
    assert top_tick(chart(html, "small:TINY")) == "4"
    assert dict(points(html, "TINY", "small:TINY"))[20261120] == 3
    assert '<a href="/dashboard?from=20261029&amp;to=20261127&amp;e=TINY">TINY</a>' in html
    assert row(html, "BIG")[1] == "90,000"


def test_one_event_draws_no_small_charts(client):
    client.get("/?e=A")
    assert 'class="multiple"' not in client.get("/dashboard").get_data(as_text=True)


def test_no_counts_shows_empty_chart(client):
    html = client.get("/dashboard").get_data(as_text=True)
    assert "No counts in this range" in html
    assert "<circle" not in chart(html)


def test_more_events_than_colours_keeps_the_largest(client):
    for n in range(9):
        for _ in range(n + 1):
            client.get(f"/?e=E{n}")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.findall(r'<li data-event="(\w+)">', html) == [f"E{n}" for n in range(8, 1, -1)]
    assert html.count("<tr data-event=") == 9
    assert "the table lists all 9" in html
    assert re.findall(r'<figure class="multiple" data-event="(\w+)">', html) == [f"E{n}" for n in range(8, -1, -1)]
    assert '<g class="series sx" data-event="E1">' in chart(html, "small:E1")


def test_a_year_of_days_stays_light(client, app):
    events = ["PAGEVIEW", "SIGNUP", "DOWNLOAD", "CLICK", "SHARE", "ORDER", "LEAVE"]
    with app.app_context():
        first = days.parse("20241127")
        seed(app, [(days.to_int(first + timedelta(n)), event, 1000 * n + k)
                   for n in range(732) for k, event in enumerate(events)])
    for query in ("from=20251127&to=20261127", "from=20251127&to=20261127&group=day"):
        reply = client.get(f"/dashboard?{query}")
        assert len(reply.get_data()) <= 150_000, query
        zipped = client.get(f"/dashboard?{query}", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.get_data()) == reply.get_data()
        assert len(zipped.get_data()) < len(reply.get_data()) / 4


@pytest.mark.parametrize("query", ["from=20261128&to=20261127", "from=2026", "e=bad%20name", "from=20250101",
                                   "group=year", "group=day&group=week"])
def test_bad_range_is_400_html_with_the_reason(client, query):
    reply = client.get(f"/dashboard?{query}")
    assert reply.status_code == 400
    assert reply.mimetype == "text/html"
    assert 'class="error"' in reply.get_data(as_text=True)


def test_token_form_when_private(private):
    reply = private.get("/dashboard")
    assert reply.status_code == 401
    assert reply.mimetype == "text/html"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'name="token"' in reply.get_data(as_text=True)
    assert private.get("/dashboard", headers={"Authorization": "Bearer s3cret-read-token"}).status_code == 200


def test_wrong_token_sets_no_cookie(private):
    reply = private.post("/dashboard", data={"token": "s3cret-read-toke"})
    assert reply.status_code == 401
    assert "not right" in reply.get_data(as_text=True)
    assert "Set-Cookie" not in reply.headers
    assert private.get("/summary").status_code == 401


def test_right_token_sets_a_strict_cookie_that_reads_summary(private):
    private.get("/?e=A")
    reply = private.post("/dashboard?from=20261101", data={"token": "s3cret-read-token"})
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/dashboard?from=20261101"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure
    assert "s3cret-read-token" not in cookie
    assert private.get("/dashboard").status_code == 200
    assert private.get("/summary").json["totals"] == {"A": 1}
    assert private.get("/summary?format=csv").get_data(as_text=True).endswith("A,1,1\n")


@pytest.mark.parametrize("extra", ["endpoint=x", "_method=POST", "_scheme=ftp", "_anchor=top", "other=1"])
def test_token_post_carries_only_the_range_back(private, extra):
    reply = private.post(f"/dashboard?from=20261101&{extra}", data={"token": "s3cret-read-token"})
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/dashboard?from=20261101"


def test_cookie_is_secure_over_https(private):
    reply = private.post("/dashboard", data={"token": "s3cret-read-token"}, base_url="https://counter.example")
    assert "Secure" in reply.headers["Set-Cookie"]


def test_forged_or_stale_cookie_is_refused(private, tmp_path):
    private.set_cookie("counter_read", "s3cret-read-token")
    assert private.get("/summary").status_code == 401
    other = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "rotated-read-token"}).test_client()
    reply = private.post("/dashboard", data={"token": "s3cret-read-token"})
    other.set_cookie("counter_read", reply.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
    assert other.get("/summary").status_code == 401


def test_nice_ticks_and_labels():
    assert nice_ticks(0, 6) == [0, 1]
    assert nice_ticks(7, 6) == [0, 2, 4, 6, 8]
    assert nice_ticks(101, 6) == [0, 50, 100, 150]
    assert compact([0, 500, 1000, 1500]) == ["0", "500", "1,000", "1,500"]
    assert compact([0, 5000, 10_000, 15_000]) == ["0", "5k", "10k", "15k"]
    assert compact([0, 2_500_000, 5_000_000]) == ["0", "2.5M", "5M"]


@pytest.mark.parametrize("now,before,kind,text", [
    (150, 100, "up", "▲ +50%"), (50, 100, "down", "▼ −50%"), (1005, 1000, "up", "▲ +0.5%"),
    (100_000, 20, "up", "▲ +499,900%"), (54, 2, "up", "▲ +52"), (3, 19, "down", "▼ −16"), (5, 5, "same", "±0"),
    (1, 0, "new", "new"), (0, 0, "same", "–"), (3, None, "none", ""),
    (10001, 10000, "same", "±0%"),
])
def test_change_reads_without_colour(now, before, kind, text):
    assert change(now, before)["kind"] == kind and change(now, before)["text"] == text


def test_an_event_keeps_its_colour_in_its_own_chart(client, app):
    # Equal totals: the chart ranks A first by name, the table ranks B first for its larger range before.
    seed(app, [(20261120, "A", 5), (20261120, "B", 5), (20261001, "B", 9)])
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.findall(r'<li data-event="(\w+)"><span class="swatch (s\d)">', html) == [("A", "s0"), ("B", "s1")]
    assert re.findall(r'<figure class="multiple" data-event="(\w+)">', html) == ["B", "A"]
    assert '<g class="series s1" data-event="B">' in chart(html, "small:B")
    assert '<g class="series s0" data-event="A">' in chart(html, "small:A")


@pytest.mark.parametrize("root", ["", "/dev", "/counter/prod"], ids=["no-prefix", "stage", "base-path"])
def test_every_url_stays_under_the_app_root(private, root):
    """Behind an API Gateway stage the app's root is /dev: forms, redirects, links and the cookie must keep it."""
    base = f"https://abc.execute-api.eu-west-1.amazonaws.com{root}"
    form = private.get("/dashboard?from=20261101&to=20261127&x=1", base_url=base)
    assert form.status_code == 401
    action = re.search(r'<form class="token" method="post" action="([^"]+)"', form.get_data(as_text=True)).group(1)
    assert action == f"{root}/dashboard?from=20261101&amp;to=20261127"
    signed_in = private.post(action.replace("&amp;", "&").removeprefix(root), data={"token": "s3cret-read-token"},
                             base_url=base)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == f"{root}/dashboard?from=20261101&to=20261127"
    assert re.search(r"Path=([^;]+)", signed_in.headers["Set-Cookie"]).group(1) == (root or "/")
    html = private.get("/dashboard?from=20261101&to=20261127", base_url=base).get_data(as_text=True)
    urls = re.findall(r'(?:href|action|src)="([^"]+)"', html)
    assert urls and all(url.startswith(f"{root}/") for url in urls), urls


def test_a_day_of_a_million_names_draws_the_largest_and_adds_up_the_rest(app, client):
    """Issue 19: a day with 10^6 imported names made /dashboard time out; the page now has bounded rows."""
    names = 1_000_000
    with app.app_context():
        store = get_store()
        store.incr(TODAY, "BIG", 5_000_000)
        connection = sqlite3.connect(store.path)  # an import of a million rows takes minutes: write them directly
        with connection:
            connection.executemany(f"INSERT INTO {store.table} VALUES (?, ?, ?)",
                                   ((TODAY, f"N{n:07d}", 1 + n % 3) for n in range(names - 1)))
        connection.close()
    html = client.get("/dashboard").get_data(as_text=True)
    shown = re.findall(r'<tr data-event="([^"]+)">', html)
    assert len(shown) == MAX_ROWS and shown[:3] == ["BIG", "N0000002", "N0000005"]
    others = names - MAX_ROWS
    total = 5_000_000 + sum(1 + n % 3 for n in range(names - 1))
    shown_total = sum(int(row(html, event)[1].replace(",", "")) for event in shown)
    assert re.search(r'<tr class="others">(.*?)</tr>', html, re.S).group(1).count(f"{others:,} other events") == 1
    assert f"{total - shown_total:,}" in re.search(r'<tr class="others">(.*?)</tr>', html, re.S).group(1)
    assert len(html) < 200_000
    summary = client.get("/summary", query_string={"from": TODAY, "to": TODAY}).json
    assert len(summary["totals"]) == names and sum(summary["totals"].values()) == total
