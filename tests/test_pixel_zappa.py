"""The pixel survives the packaged Zappa handler behind either API: base64 out, exact GIF bytes back; CORS too."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from counter_app.web import PIXEL
from tests.lambda_package import LambdaFunction, http_event, new_event, rest_event

STAGE = "dev"


@pytest.fixture(scope="module")
def function(packages, tables, dynalite):
    """The dev stage's package, warm, counting into dynalite."""
    with LambdaFunction(packages[STAGE], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint) as running:
        yield running


def http_api(method: str, path: str, query: dict | None = None, **options) -> dict:
    """The stage's HTTP API event (payload 2.0), the default front door."""
    return http_event(method, path, stage=STAGE, query=urlencode(query or {}), **options)


def rest_api(method: str, path: str, query: dict | None = None, **options) -> dict:
    return rest_event(STAGE, method, path, query=query, **options)


@pytest.mark.parametrize("make", [http_api, rest_api], ids=["http-api", "rest-api"])
def test_pixel_is_base64_encoded_and_decodes_to_the_gif(function, make):
    event = new_event()
    reply = function.invoke(make("GET", "/pixel.gif", {"e": event.lower()}, headers={"Accept": "image/*"}))
    assert reply["statusCode"] == 200, reply
    assert reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["body"]) == PIXEL
    assert reply["headers"]["Content-Type"] == "image/gif"
    assert reply["headers"]["Cache-Control"] == "no-store"
    summary = function.invoke(make("GET", "/summary", {"e": event}))
    assert json.loads(summary["body"])["totals"] == {event: 1}


def test_cors_through_the_http_api(function):
    """A page on another site counts with fetch: the preflight and the answer carry the CORS headers."""
    origin = {"Origin": "https://www.example.com"}
    preflight = function.invoke(http_api("OPTIONS", "/", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}))
    assert preflight["statusCode"] == 200
    assert preflight["headers"]["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "POST" in preflight["headers"]["Access-Control-Allow-Methods"]
    reply = function.invoke(http_api("POST", "/", body=json.dumps({"e": new_event()}),
                                     headers={**origin, "Content-Type": "application/json"}))
    assert reply["statusCode"] == 200 and reply["headers"]["Access-Control-Allow-Origin"] == origin["Origin"]
    plain = function.invoke(http_api("GET", "/", {"e": new_event()}))
    assert "Access-Control-Allow-Origin" not in plain["headers"]


@pytest.mark.parametrize(
    ("path", "query", "mimetype", "start"),
    [("/badge.svg", {"e": "email_open"}, "image/svg+xml", "<svg"), ("/counter.js", {}, "text/javascript", "/*"),
     ("/pixel.gif", {}, "application/json", '{"error":')],
    ids=["badge", "script", "pixel-error"],
)
def test_text_replies_stay_text(function, path, query, mimetype, start):
    reply = function.invoke(http_api("GET", path, query))
    assert reply["headers"]["Content-Type"].split(";")[0] == mimetype
    assert not reply.get("isBase64Encoded")
    assert reply["body"].startswith(start)
