"""The dashboard through Flask's test client: rendering, ranges, and the read cookie."""

import re

import pytest

from counter_app import create_app
from counter_app.chart import compact, nice_ticks
from tests.conftest import NOW, TODAY


@pytest.fixture
def private(tmp_path):
    return create_app(
        {"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "s3cret-read-token", "CLOCK": lambda: NOW}
    ).test_client()


def points(html, event):
    group = re.search(rf'<g class="series s\d" data-event="{event}">(.*?)</g>', html, re.S).group(1)
    return [(int(d), int(n)) for d, n in re.findall(r'data-day="(\d+)" data-count="(\d+)"', group)]


def test_default_range_draws_every_day_with_zeros(client):
    client.get("/?e=A&c=20261120")
    client.get("/?e=A&c=20261120")
    client.get("/?e=B")
    reply = client.get("/dashboard")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert reply.headers["Cache-Control"] == "no-store"
    drawn = points(html, "A")
    assert html.count('<g class="series s0" data-event="A">') == 2  # the wide and the narrow chart
    assert len(drawn) == 30
    assert drawn[0] == (20261029, 0) and drawn[-1] == (TODAY, 0)
    assert dict(drawn)[20261120] == 2
    assert dict(points(html, "B"))[TODAY] == 1
    assert '<tr data-event="A"><th scope="row">A</th><td>2</td></tr>' in html
    assert "/summary?from=20261029&amp;to=20261127&amp;format=csv" in html
    assert "<script" not in html and "style=" not in html


def test_range_and_event_filter_carry_into_links(client):
    client.get("/?e=A&c=20261101")
    client.get("/?e=B&c=20261101")
    html = client.get("/dashboard?from=20261101&to=20261102&e=b").get_data(as_text=True)
    assert points(html, "B")[:2] == [(20261101, 1), (20261102, 0)]
    assert 'data-event="A"' not in html
    assert "/summary?from=20261101&amp;to=20261102&amp;e=b&amp;format=json" in html


def test_no_counts_shows_empty_chart(client):
    html = client.get("/dashboard").get_data(as_text=True)
    assert "No counts in this range" in html
    assert "<circle" not in html


def test_more_events_than_colours_keeps_the_largest(client):
    for n in range(9):
        for _ in range(n + 1):
            client.get(f"/?e=E{n}")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.findall(r'<li data-event="(\w+)">', html) == [f"E{n}" for n in range(8, 1, -1)]
    assert html.count("<tr data-event=") == 9
    assert "the table lists all 9" in html


@pytest.mark.parametrize("query", ["from=20261128&to=20261127", "from=2026", "e=bad%20name", "from=20250101"])
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
    assert private.get("/summary?format=csv").get_data(as_text=True).endswith("A,1\n")


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
    assert [compact(v) for v in (999, 9999, 25000, 3_000_000, 2_500_000)] == ["999", "9999", "25k", "3M", "2.5M"]


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
