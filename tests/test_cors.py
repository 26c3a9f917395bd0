"""CORS for every route, and the ALLOWED_ORIGINS allowlist."""

from __future__ import annotations

import pytest

from counter_app import create_app
from counter_app.cors import parse_origins
from tests.conftest import NOW

SITE = "https://blog.example.com"
OTHER = "https://evil.example.net"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
ROUTES = ["/?e=x", "/pixel.gif?e=x", "/badge.svg?e=x", "/summary", "/healthz"]


def make_client(tmp_path, **config):
    config = {"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW, **config}
    return create_app(config).test_client()


def totals(client):
    return client.get("/summary").json["totals"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_answers_any_origin_by_default(client, path):
    reply = client.get(path, headers={"Origin": OTHER})
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == OTHER
    assert "Origin" in reply.headers["Vary"]


def test_errors_carry_cors_headers_so_pages_can_read_them(client):
    reply = client.get("/?e=bad name", headers={"Origin": SITE})
    assert reply.status_code == 400
    assert reply.headers["Access-Control-Allow-Origin"] == SITE


def test_json_post_preflight(client):
    reply = client.options("/", headers={"Origin": SITE, **PREFLIGHT})
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert reply.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(reply.headers["Access-Control-Max-Age"]) > 0
    assert totals(client) == {}


@pytest.fixture
def listed(tmp_path):
    return make_client(tmp_path, ALLOWED_ORIGINS=f"{SITE}, http://localhost:8000/")


@pytest.mark.parametrize(
    "headers",
    [{"Origin": SITE}, {"Origin": "HTTPS://Blog.Example.com"}, {"Origin": "http://localhost:8000"},
     {"Referer": f"{SITE}/post/1?x=y"}, {}, {"Origin": "http://localhost"}],
    ids=["origin", "origin-case", "second-origin", "referer", "no-origin", "own-origin"],
)
def test_listed_or_unknown_sites_count(listed, headers):
    reply = listed.get("/pixel.gif?e=x", headers=headers)
    assert reply.status_code == 200
    assert totals(listed) == {"X": 1}


@pytest.mark.parametrize(
    "method,path,headers",
    [("get", "/?e=x", {"Origin": OTHER}), ("post", "/", {"Origin": OTHER}),
     ("get", "/pixel.gif?e=x", {"Referer": f"{OTHER}/page"}), ("get", "/pixel.gif?e=x", {"Origin": "null"}),
     ("get", "/?e=x", {"Origin": OTHER, "Referer": f"{SITE}/"}), ("get", "/?e=x", {"Origin": "http://localhost:8001"})],
    ids=["get", "beacon", "pixel-referer", "null-origin", "origin-beats-referer", "other-port"],
)
def test_unlisted_sites_are_refused_and_count_nothing(listed, method, path, headers):
    reply = getattr(listed, method)(path, headers=headers, data="e=x", content_type="text/plain")
    assert reply.status_code == 403
    assert reply.json == {"status": "failure", "error": f"This counter does not accept requests from "
                          f"{headers['Origin'] if 'Origin' in headers else OTHER}."}
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert totals(listed) == {}


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
@pytest.mark.parametrize("path", ["/?e=x", "/pixel.gif?e=x", "/counter.js", "/badge.svg?e=x"])
def test_a_page_hiding_its_origin_is_refused(listed, path, site):
    """Referrer-Policy: no-referrer hides Origin and Referer, but a browser still says the request is another site's."""
    reply = listed.get(path, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"})
    assert reply.status_code == 403
    assert "hides its origin" in reply.json["error"]
    assert totals(listed) == {}


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {},
     {"Sec-Fetch-Site": "cross-site", "Referer": f"{SITE}/post"}, {"Sec-Fetch-Site": "same-site", "Origin": SITE}],
    ids=["own-page", "typed-url", "not-a-browser", "listed-referer", "listed-origin"],
)
def test_requests_that_show_a_listed_or_no_site_count(listed, headers):
    assert listed.get("/?e=x", headers=headers).status_code == 200
    assert totals(listed) == {"X": 1}


def test_any_origin_ignores_sec_fetch_site(client):
    assert client.get("/?e=x", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_unlisted_preflight_is_refused(listed):
    assert listed.options("/", headers={"Origin": OTHER, **PREFLIGHT}).status_code == 403
    assert listed.options("/", headers={"Origin": SITE, **PREFLIGHT}).headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize(
    "value,expected",
    [("*", None), (" * ", None), (["https://a.com", "*"], None), ("https://a.com", {"https://a.com"}),
     ("https://A.com/, http://b.org:8080,", {"https://a.com", "http://b.org:8080"}),
     (["https://a.com"], {"https://a.com"})],
)
def test_parse_origins(value, expected):
    assert parse_origins(value) == expected


@pytest.mark.parametrize("value", ["", " , ", "a.com", "https://a.com/path", "https://*.a.com", 5, None,
                                   {"a": 1}, "https://user@a.com", "https://a.com?x"])
def test_bad_allowed_origins_fail_at_start_naming_the_variable(tmp_path, value):
    with pytest.raises(ValueError, match="COUNTER_ALLOWED_ORIGINS"):
        make_client(tmp_path, ALLOWED_ORIGINS=value)


def test_allowed_origins_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_ALLOWED_ORIGINS", f'["{SITE}"]')  # from_prefixed_env parses JSON lists
    client = make_client(tmp_path)
    assert client.get("/?e=x", headers={"Origin": SITE}).status_code == 200
    assert client.get("/?e=x", headers={"Origin": OTHER}).status_code == 403
    monkeypatch.setenv("COUNTER_ALLOWED_ORIGINS", "1")
    with pytest.raises(ValueError, match="COUNTER_ALLOWED_ORIGINS=1 "):
        make_client(tmp_path)
