"""The pixel survives the packaged Zappa handler with binary_support on: base64 out, exact GIF bytes back."""

from __future__ import annotations

import base64
import json

import pytest

from counter_app.web import PIXEL
from tests.lambda_package import LambdaFunction, new_event, rest_event

STAGE = "dev"


@pytest.fixture(scope="module")
def function(packages, tables, dynalite):
    """The dev stage's package, warm, counting into dynalite."""
    with LambdaFunction(packages[STAGE], AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint) as running:
        yield running


def test_pixel_is_base64_encoded_and_decodes_to_the_gif(function):
    event = new_event()
    reply = function.invoke(rest_event(STAGE, "GET", "/pixel.gif", query={"e": event.lower()},
                                       headers={"Accept": "image/*"}))
    assert reply["statusCode"] == 200, reply
    assert reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["body"]) == PIXEL
    assert reply["headers"]["Content-Type"] == "image/gif"
    assert reply["headers"]["Cache-Control"] == "no-store"
    summary = function.invoke(rest_event(STAGE, "GET", "/summary", query={"e": event}))
    assert json.loads(summary["body"])["totals"] == {event: 1}


@pytest.mark.parametrize(
    ("path", "query", "mimetype", "start"),
    [("/badge.svg", {"e": "email_open"}, "image/svg+xml", "<svg"), ("/counter.js", {}, "text/javascript", "/*"),
     ("/pixel.gif", {}, "application/json", '{"error":')],
    ids=["badge", "script", "pixel-error"],
)
def test_text_replies_stay_text(function, path, query, mimetype, start):
    reply = function.invoke(rest_event(STAGE, "GET", path, query=query))
    assert reply["headers"]["Content-Type"].split(";")[0] == mimetype
    assert not reply.get("isBase64Encoded")
    assert reply["body"].startswith(start)
