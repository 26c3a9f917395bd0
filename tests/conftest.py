"""Fixtures: an app on a temporary SQLite file, its client and CLI runner, dynalite, and the Zappa packages."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from botocore.stub import Stubber

from counter_app import create_app
from counter_app.store import get_store
from tests.dynalite import Dynalite
from tests.lambda_package import STAGES, build, make, sandbox_environ
from tests.moto_server import MotoServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
TODAY = 20261127


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch):
    """Fake credentials and no real endpoint: no test can reach AWS."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in list(__import__("os").environ):
        if name.startswith("COUNTER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/counter.sqlite3", "CLOCK": lambda: NOW})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def moto_app():
    """An app on DynamoDB mocked by moto (no table until create-table)."""
    from moto import mock_aws

    with mock_aws():
        yield create_app({"TESTING": True, "STORE": "dynamodb://", "CLOCK": lambda: NOW})


def stubbed(app):
    """The app's DynamoDB store, with a botocore Stubber on its client and no backoff sleeps."""
    with app.app_context():
        store = get_store()
    store._sleep = lambda seconds: None
    return store, Stubber(store.client)


@pytest.fixture(scope="session")
def dynalite():
    server = Dynalite().start()
    yield server
    server.stop()


def dynalite_app(server: Dynalite | MotoServer, monkeypatch, **config):
    """An app on a fresh table of its own in ``server`` (dynalite, or another DynamoDB endpoint)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", server.endpoint)  # moto serves both on one port
    app = create_app(
        {"TESTING": True, "STORE": "dynamodb://", "TABLE_PREFIX": f"T{uuid.uuid4().hex[:12]}",
         "CLOCK": lambda: NOW, **config}
    )
    app.test_cli_runner().invoke(args=["create-table"], catch_exceptions=False)
    return app


@pytest.fixture(scope="session")
def moto_server():
    """moto served by one thread: the DynamoDB stand-in that runs transactions (dynalite lacks them)."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def packages(tmp_path_factory):
    """Each stage packaged once per session, the way ``make package`` does it."""
    dest = tmp_path_factory.mktemp("packages")
    return {stage: build(stage, dest) for stage in STAGES}


@pytest.fixture(scope="session")
def tables(dynalite):
    """TEST_counters and LIVE_counters in dynalite, made by ``make create-table`` as the README says."""
    import boto3

    for stage in STAGES:
        make("create-table", f"STAGE={stage}", env=sandbox_environ(AWS_ENDPOINT_URL_DYNAMODB=dynalite.endpoint))
    return boto3.client("dynamodb", endpoint_url=dynalite.endpoint, region_name="eu-west-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page, closed after the test."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture(params=["sqlite", "dynalite"])
def any_app(request, tmp_path, monkeypatch):
    """The same app on each store: the contract suite runs against both."""
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return dynalite_app(request.getfixturevalue("dynalite"), monkeypatch)


@pytest.fixture(params=["sqlite", "transaction", "stream"])
def once_app(request, tmp_path, monkeypatch):
    """The same app on each store and way that applies an id exactly once (dynalite has neither transactions nor
    streams): SQLite, and moto with COUNTER_IDEMPOTENT_WRITES=transaction and =stream."""
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return dynalite_app(request.getfixturevalue("moto_server"), monkeypatch, IDEMPOTENT_WRITES=request.param)


def on_stream(app) -> bool:
    """Whether the app writes an id as a record that the aggregator adds up later (and answers no count)."""
    return app.config["STORE"].startswith("dynamodb") and app.config["IDEMPOTENT_WRITES"] == "stream"


def aggregated(app):
    """``app`` after ``flask aggregate`` has added up its ids table's stream, if it writes ids there."""
    if on_stream(app):
        result = app.test_cli_runner().invoke(args=["aggregate"])
        assert result.exit_code == 0, result.output
    return app


def shown(app, count: int) -> dict:
    """The ``count`` of an idempotent hit's reply: none on the stream path, where the hit is counted later."""
    return {} if on_stream(app) else {"count": count}
