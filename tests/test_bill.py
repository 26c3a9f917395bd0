"""The worst-case monthly bill: the docs quote what the settings imply, and its assumptions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from counter_app import create_app
from counter_app.storage.placement import NEWCOMERS_BYTES
from counter_app.store import get_store
from counter_app.web import PUBLIC_BADGE_DAYS
from deploy import cost
from deploy.stages import stage_settings
from tests.conftest import NOW, dynalite_app

DOCS = Path(__file__).resolve().parent.parent / "docs" / "deploying.md"
README = DOCS.parent.parent / "README.md"


def test_docs_quote_the_bill_of_the_shipped_settings():
    """Change a throttle, the concurrency or a price, and `make bill` prints what the docs must say."""
    text = DOCS.read_text()
    assert cost.bill_table() in text
    assert cost.price_list() in text
    total = sum(cost.worst_case(stage_settings("prod")).values())
    assert f"worst case is **${total:,.2f} a month**" in " ".join(README.read_text().split())


def test_the_bill_follows_the_settings():
    config = {**stage_settings("prod"), "apigateway_version": "v1", "architecture": "x86_64"}
    del config["waf_rate_limit"]  # without the front door, whose WAF refuses a body over 16 KB
    base = cost.worst_case(config)
    doubled = cost.worst_case({**config, "api_throttle_rate": 2 * config["api_throttle_rate"]})
    assert doubled["API Gateway"] == pytest.approx(2 * base["API Gateway"])
    assert doubled["Lambda compute"] == base["Lambda compute"]  # still bound by the reserved instances
    http_api = cost.worst_case({**config, "apigateway_version": "v2", "architecture": "arm64"})
    # One route, $1.11 a million, and each request billed per 512 KB of a body up to HTTP APIs' 10 MB: 20 times.
    assert http_api["API Gateway"] == pytest.approx(base["API Gateway"] / 2 / 3.5 * 1.11 * 20)
    assert http_api["Lambda compute"] == pytest.approx(base["Lambda compute"] * 0.8, rel=1e-4)
    assert cost.requests_per_month(config) == config["api_throttle_rate"] * 2 * 30 * 86400
    # Behind the front door no body over 16 KB reaches API Gateway: each request is billed once.
    guarded = cost.worst_case({**config, "apigateway_version": "v2", "architecture": "arm64", "waf_rate_limit": 300})
    assert guarded["API Gateway"] == pytest.approx(http_api["API Gateway"] / 20)
    assert guarded["WAF web ACL and rules"] == 7.0 and http_api["WAF web ACL and rules"] == 0.0
    requests = cost.requests_per_month({**config, "apigateway_version": "v2"})
    assert guarded["CloudFront and WAF requests"] == pytest.approx(
        requests / 1e6 * 1.80 + requests * 16 * 1024 / 1024**3 * 0.02)


def test_snap_start_caches_one_version_more_than_zappa_retains():
    """Zappa 0.63's update publishes the code (then prunes to num_retained_versions) and publishes once more."""
    prod = stage_settings("prod")
    line = cost.worst_case(prod)["SnapStart cache"]
    assert line == pytest.approx((prod["num_retained_versions"] + 1) * 0.5 * 30 * 86400 * 0.0000015046)
    assert cost.worst_case({**prod, "snap_start": "None"})["SnapStart cache"] == 0


def test_largest_reply_without_the_token_fits_the_bill(tmp_path):
    """The bill's data-transfer line assumes no reply to an anonymous caller exceeds LARGEST_REPLY_BYTES."""
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN": "x" * 16, "CLOCK": lambda: NOW})
    client = app.test_client()
    paths = [re.sub(r"<[^>]+>", "x", rule.rule) for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    paths += ["/static/dashboard.css", "/static/counter.js", "/?e=PAGEVIEW", "/pixel.gif?e=PAGEVIEW"]
    sizes = {}
    for path in paths:
        with client.get(path) as reply:
            sizes[path] = len(reply.get_data()) + sum(len(k) + len(v) + 4 for k, v in reply.headers.items())
    assert "/openapi.json" in sizes and max(sizes.values()) <= cost.LARGEST_REPLY_BYTES, sizes


def test_a_public_badge_reads_what_the_bill_says(dynalite, monkeypatch):
    """Issue 19 §13: a public badge of 366 days read 732 items; without the token it now spans 31 days at most."""
    token = "s3cret-read-token"
    app = dynalite_app(dynalite, monkeypatch, READ_TOKEN=token, PUBLIC_BADGES=True)
    client = app.test_client()
    with app.app_context():
        store = get_store()
    keys: list[int] = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: keys.extend(len(table["Keys"]) for table in params["RequestItems"].values()))
    badge = "/badge.svg?e=PAGEVIEW&days="
    assert client.get(badge + "366").status_code == 400
    assert sum(keys) == 0  # refused before any read
    assert client.get(badge + str(PUBLIC_BADGE_DAYS)).status_code == 200
    assert sum(keys) == 2 * PUBLIC_BADGE_DAYS  # a day item and a newcomers item a day
    keys.clear()
    assert client.get(badge + str(PUBLIC_BADGE_DAYS) + "&show=visitors").status_code == 200
    assert sum(keys) == 4 * PUBLIC_BADGE_DAYS  # and the two visitors items that mirror them
    assert client.get(badge + "366", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Each item is billed by its size in 4 KB steps: the day item under 4 KB, the newcomers item its names and a
    # key, and a visitors item as much as the counts item it mirrors.
    assert cost.BADGE_READ_UNITS == 2 * PUBLIC_BADGE_DAYS * (1 + -(-(NEWCOMERS_BYTES + 100) // 4096))
    config = stage_settings("prod")
    public = {**config, "aws_environment_variables": {**config["aws_environment_variables"],
                                                      "COUNTER_PUBLIC_BADGES": "true"}}
    assert cost.worst_case(config)["DynamoDB reads (public badges)"] == 0
    assert cost.worst_case(public)["DynamoDB reads (public badges)"] == pytest.approx(
        cost.requests_per_month(config) * 558 * cost.PRICES["read_units"][0] / 1e6)
