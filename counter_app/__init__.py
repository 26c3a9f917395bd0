"""The counter service: count website events per day."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

if sys.version_info < (3, 11):  # the first use of 3.11's sqlite3 error codes would fail with an AttributeError
    raise SystemExit(f"The counter needs Python 3.11 or newer; this is Python {sys.version.split()[0]}.")

DEFAULTS: dict[str, Any] = {
    "STORE": None,  # None: SQLite file in the instance folder
    "TABLE_PREFIX": "TEST",
    "TABLE": "counters",
    "TIMEZONE": "UTC",
    "READ_TOKEN": None,  # when set (16+ characters), read routes need "Authorization: Bearer <token>"
    "READ_TOKEN_FROM": None,  # or "ssm:/PATH" / "secretsmanager:NAME": the token is read there (secret_token.py)
    "PUBLIC_BADGES": False,  # True: /badge.svg stays open when READ_TOKEN is set
    "ALLOWED_ORIGINS": "*",  # or comma-separated origins; others are refused
    "EVENTS": None,  # None: any valid name; else "PAGEVIEW,SIGNUP"
    "BACKDATE_DAYS": 31,
    "MAX_EVENTS_PER_DAY": 200,
    "COUNT_BOTS": False,
    "MAX_CONTENT_LENGTH": 16 * 1024,
    "IDEMPOTENCY_HOURS": 24,  # an increment's id is remembered this long: a retry within it is not counted again
    "REQUEST_SECONDS": 10,  # a request's time for the store, off Lambda (on Lambda: the function's remaining time)
    "ALERTS": None,  # alert rules and webhooks: inline JSON, or a .json or .toml file (docs/alerts.md)
    "ALERTS_SECRET": None,  # signs json webhooks' bodies (X-Counter-Signature)
    "ALERTS_ALLOW_PRIVATE": None,  # private networks webhooks may reach, such as "127.0.0.1/32"; else none
    "IDEMPOTENT_WRITES": "stream",  # DynamoDB: "stream" (an id record, added up by the aggregator) or "transaction"
    "VISITORS": True,  # count each event's daily visitors: a salted hash of site, address and agent (docs/privacy.md)
    "CLIENT_ADDRESS_HEADER": None,  # a header the front door sets with the client's address (CloudFront-Viewer-Address)
    "CLOCK": None,  # tests inject a callable returning an aware datetime
}
# What COUNTER_* variables may set. Any other would reach Flask's own config, where a
# value such as COUNTER_APPLICATION_ROOT=5 passes the start and then fails every request.
SETTINGS = sorted(set(DEFAULTS) - {"CLOCK"})


class SettingsError(click.ClickException, ValueError):
    """A setting the app cannot start with: ``flask`` commands say so in one line, without a traceback."""


def _settings_checked(factory: Callable[..., Flask]) -> Callable[..., Flask]:
    # Every setting is checked while the app is made, and a bad one raises ValueError naming it.
    @functools.wraps(factory)
    def checked(*args: Any, **kwargs: Any) -> Flask:
        try:
            return factory(*args, **kwargs)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc

    return checked


@_settings_checked
def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the counter app.

    :raises SettingsError: (a ``ValueError``) naming a setting the app cannot start with.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    _refuse_unknown_settings()
    app.config.from_prefixed_env("COUNTER")
    for secret in ("READ_TOKEN", "ALERTS_SECRET"):  # a secret is a string: JSON would read "false" or "0" as no token
        if f"COUNTER_{secret}" in os.environ:
            app.config[secret] = os.environ[f"COUNTER_{secret}"]
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["STORE"] is None:
        app.config["STORE"] = "sqlite:///" + os.path.join(app.instance_path, "counter.sqlite3")

    from . import aggregate, alerts, auth, body, compress, cors, counting, dashboard, days, deadline, errors, headers
    from . import logs, metrics, openapi, policy, snapstart, store, transfer, visitors, web

    logs.init_app(app)
    deadline.init_app(app)
    auth.init_app(app)
    body.init_app(app)
    days.init_app(app)
    policy.init_app(app)
    visitors.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    compress.init_app(app)
    store.init_app(app)
    cors.init_app(app)
    transfer.init_app(app)
    alerts.init_app(app)
    aggregate.init_app(app)
    app.register_blueprint(counting.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(metrics.bp)
    snapstart.init_app(app)
    return app


def _refuse_unknown_settings() -> None:
    unknown = sorted(name for name in os.environ if name.startswith("COUNTER_") and name[8:] not in SETTINGS)
    if unknown:
        raise ValueError(
            f"{unknown[0]} is not a setting of the counter; the settings are "
            + ", ".join(f"COUNTER_{name}" for name in SETTINGS)
        )
