"""The pixel survives Zappa's Lambda handler with binary_support on: base64 out, exact GIF bytes back."""

from __future__ import annotations

import base64
import sys

import pytest

from counter_app import create_app
from counter_app.web import PIXEL

STAGE = "dev"
# The names Zappa writes into the zappa_settings.py module it packages.
SETTINGS = """
API_STAGE = "dev"
PROJECT_NAME = "counter"
APP_MODULE = "wsgi"
APP_FUNCTION = "app"
BINARY_SUPPORT = True
DEBUG = False
LOG_LEVEL = None
DJANGO_SETTINGS = None
DOMAIN = None
REMOTE_ENV = None
CONTEXT_HEADER_MAPPINGS = {}
ENVIRONMENT_VARIABLES = {"COUNTER_STORE": %r}
"""


def rest_api_event(path: str, query: dict[str, str], headers: dict[str, str] | None = None) -> dict:
    """An API Gateway REST (v1) proxy event as Lambda receives it for ``GET /<stage><path>``."""
    headers = {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "Accept": "image/*", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {"stage": STAGE, "path": f"/{STAGE}{path}", "httpMethod": "GET",
                           "identity": {"sourceIp": "203.0.113.9"}},
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def lambda_handler(tmp_path, monkeypatch):
    """Zappa's real LambdaHandler on a settings module like the packaged one, serving ``wsgi.app`` on SQLite."""
    from zappa.handler import LambdaHandler

    store = f"sqlite:///{tmp_path}/counter.sqlite3"
    (tmp_path / "pixel_zappa_settings.py").write_text(SETTINGS % store)
    monkeypatch.syspath_prepend(str(tmp_path))
    # The handler writes these into os.environ; setting them first lets monkeypatch restore them.
    for name, value in {"COUNTER_STORE": store, "SERVERTYPE": "", "FRAMEWORK": "", "PROJECT": "", "STAGE": ""}.items():
        monkeypatch.setenv(name, value)
    for module in ("wsgi", "pixel_zappa_settings"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    # LambdaHandler is a process-wide singleton: start from a fresh one and leave none behind.
    monkeypatch.setattr(LambdaHandler, "_LambdaHandler__instance", None)
    handler = LambdaHandler("pixel_zappa_settings")
    handler.store = store
    return handler


def test_pixel_is_base64_encoded_and_decodes_to_the_gif(lambda_handler):
    reply = lambda_handler.handler(rest_api_event("/pixel.gif", {"e": "email_open"}), None)
    assert reply["statusCode"] == 200
    assert reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["body"]) == PIXEL
    assert reply["headers"]["Content-Type"] == "image/gif"
    assert reply["headers"]["Cache-Control"] == "no-store"
    summary = create_app({"STORE": lambda_handler.store}).test_client().get("/summary")
    assert summary.json["totals"] == {"EMAIL_OPEN": 1}


@pytest.mark.parametrize(
    ("path", "query", "mimetype"),
    [("/badge.svg", {"e": "email_open"}, "image/svg+xml"), ("/counter.js", {}, "text/javascript"),
     ("/pixel.gif", {}, "application/json")],
    ids=["badge", "script", "pixel-error"],
)
def test_text_replies_stay_text(lambda_handler, path, query, mimetype):
    reply = lambda_handler.handler(rest_api_event(path, query), None)
    assert reply["headers"]["Content-Type"].split(";")[0] == mimetype
    assert "isBase64Encoded" not in reply
    assert reply["body"].startswith(("<svg", "/*", "{"))
