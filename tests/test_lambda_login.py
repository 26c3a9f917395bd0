"""The dashboard's sign-in through the real package, wherever API Gateway or Lambda puts the app.

Each surface turns the path a browser asks for into the event Lambda receives. A REST or HTTP API stage
reaches the function only for paths under its stage (``/dev/...``); anything else never arrives.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.lambda_package import LambdaFunction, Package, http_event, rest_event

TOKEN = "packaged-read-token-0123"
DOMAIN = "counter.example.com"
DAY = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y%m%d")


@dataclass(frozen=True)
class Surface:
    """Where the app is served: the URL prefix browsers see, and how a browser's request becomes an event."""

    prefix: str
    event: Callable[..., dict]

    def send(self, function: LambdaFunction, method: str, url: str, *, headers: dict[str, str] | None = None,
             body: str | None = None) -> dict:
        path, _, query = url.partition("?")
        assert path.startswith(f"{self.prefix}/"), f"{url} is outside {self.prefix or 'the root'}: it never arrives"
        return function.invoke(self.event(method, path, query, headers or {}, body))


def rest(stage: str, host: str | None = None) -> Callable[..., dict]:
    """REST API (payload 1.0) events; API Gateway strips the stage from ``path``, a custom domain has no stage."""

    def event(method, path, query, headers, body):
        path = path.removeprefix(f"/{stage}") if host is None else path
        return rest_event(stage, method, path, query=dict(parse_qsl(query)) or None, body=body,
                          headers={**headers, **({"Host": host} if host else {})})

    return event


def http(stage: str) -> Callable[..., dict]:
    """HTTP API or Function URL (payload 2.0) events; a named stage stays in ``rawPath``."""

    def event(method, path, query, headers, body):
        path = path if stage == "$default" else path.removeprefix(f"/{stage}")
        return http_event(method, path, stage=stage, query=query, headers=headers, body=body)

    return event


SURFACES = {
    "rest-stage": Surface("/dev", rest("dev")),
    "http-api-stage": Surface("/dev", http("dev")),
    "function-url": Surface("", http("$default")),
    "custom-domain": Surface("", rest("dev", host=DOMAIN)),
    "custom-domain-base-path": Surface("/counter", rest("dev", host=DOMAIN)),
}


@pytest.fixture(scope="module")
def functions(packages, tables, dynalite, tmp_path_factory):
    """The dev package with a read token; a copy of it built with Zappa's ``base_path`` for a custom domain."""
    package = packages["dev"]
    based = tmp_path_factory.mktemp("based") / "dev"
    shutil.copytree(package.root, based)
    settings = based / "zappa_settings.py"  # what zappa package writes for "domain" and "base_path" settings
    settings.write_text(settings.read_text().replace("DOMAIN=None", f"DOMAIN='{DOMAIN}'")
                        .replace("BASE_PATH=None", "BASE_PATH='counter'"))
    # The zip's bytecode is used without looking at the source (unchecked-hash): it goes with the old settings.
    (based / "__pycache__" / "zappa_settings.cpython-313.pyc").unlink()
    extra = {"AWS_ENDPOINT_URL_DYNAMODB": dynalite.endpoint, "COUNTER_READ_TOKEN": TOKEN}
    with LambdaFunction(package, **extra) as plain, LambdaFunction(Package("dev", package.zip, based), **extra) as base:
        yield {name: base if name == "custom-domain-base-path" else plain for name in SURFACES}


def cookies(reply: dict) -> set[str]:
    """The distinct Set-Cookie values of a payload 1.0 (multiValueHeaders) or 2.0 (cookies) reply.

    Zappa 0.63's middleware sends each cookie twice, as Set-Cookie and set-cookie; browsers keep one.
    """
    return set(reply.get("cookies") or reply.get("multiValueHeaders", {}).get("Set-Cookie", []))


@pytest.mark.parametrize("surface", SURFACES)
def test_sign_in_stays_under_the_prefix(functions, surface):
    function, where = functions[surface], SURFACES[surface]
    page = f"{where.prefix}/dashboard?from={DAY}&to={DAY}"

    form = where.send(function, "GET", page)
    assert form["statusCode"] == 401, form
    action = html.unescape(re.search(r'<form class="token" method="post" action="([^"]+)"', form["body"]).group(1))
    assert action == page

    wrong = where.send(function, "POST", action, body="token=not-the-token-at-all",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong["statusCode"] == 401 and cookies(wrong) == set()

    signed_in = where.send(function, "POST", action, body=f"token={TOKEN}",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert signed_in["statusCode"] == 303, signed_in
    assert signed_in["headers"]["Location"] == page
    (cookie,) = cookies(signed_in)
    assert re.search(r"Path=([^;]+)", cookie).group(1) == (where.prefix or "/")
    assert "Secure" in cookie and "HttpOnly" in cookie and TOKEN not in cookie

    dashboard = where.send(function, "GET", signed_in["headers"]["Location"],
                           headers={"Cookie": cookie.split(";")[0]})
    assert dashboard["statusCode"] == 200, dashboard
    assert '<svg class="chart chart-wide"' in dashboard["body"]
    links = re.findall(r'(?:href|action|src)="([^"]+)"', dashboard["body"])
    assert links and all(urlsplit(html.unescape(link)).path.startswith(f"{where.prefix}/") for link in links)
    summary = where.send(function, "GET", html.unescape(re.search(r'id="json-link" href="([^"]+)"',
                                                                  dashboard["body"]).group(1)),
                         headers={"Cookie": cookie.split(";")[0]})
    assert summary["statusCode"] == 200 and '"totals"' in summary["body"]


def test_a_form_posted_outside_the_stage_never_arrives():
    """The bug this guards against: posting to /dashboard from /dev/dashboard leaves the REST stage."""
    with pytest.raises(AssertionError, match="never arrives"):
        SURFACES["rest-stage"].send(None, "POST", "/dashboard")
