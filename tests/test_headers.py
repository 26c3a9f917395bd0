"""Security headers: nosniff on every reply; pages and SVG also get CSP, Referrer-Policy and no framing."""

import pytest
from flask import Response


def test_json_replies_are_nosniff_errors_included(client):
    for path in ("/?e=A", "/?e=bad%20name", "/nope", "/openapi.json"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path
    assert client.put("/").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml"])
def test_rendered_replies_get_the_full_set(app, mimetype):
    app.add_url_rule("/page", "page", lambda: Response("<p>hi</p>", mimetype=mimetype))
    headers = app.test_client().get("/page").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe" not in headers["Content-Security-Policy"]  # the pages have no inline script or style
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_a_route_may_set_its_own_policy(app):
    def page():
        return Response("<p>hi</p>", mimetype="text/html", headers={"Content-Security-Policy": "default-src 'none'"})

    app.add_url_rule("/page", "page", page)
    assert app.test_client().get("/page").headers["Content-Security-Policy"] == "default-src 'none'"


def test_json_replies_have_no_page_policy(client):
    assert "Content-Security-Policy" not in client.get("/?e=A").headers
