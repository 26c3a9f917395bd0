"""Webhook delivery: the bodies Slack and Discord accept, the signature, retries, and no private targets."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl

import pytest

from counter_app import SettingsError, alerts, create_app
from counter_app.alerts import webhook
from counter_app.alerts.rules import Webhook
from counter_app.store import get_store
from tests.conftest import NOW
from tests.receiver import Receiver

SECRET = "a-shared-secret-of-some-length"
ALERT = {"id": "signups:20261127:firing", "rule": "signups", "text": "Alert: signups: no SIGNUP for 6 hours."}
# Slack's incoming webhook: "text" (mrkdwn), or blocks/attachments with it (docs.slack.dev/messaging/sending-messages-
# using-incoming-webhooks); Discord's Execute Webhook: "content" of at most 2000 characters
# (discord.com/developers/docs/resources/webhook#execute-webhook).
SLACK_FIELDS = {"text", "blocks", "attachments", "mrkdwn", "thread_ts"}


def app_with(tmp_path, url: str, fmt: str = "slack", **config):
    rules = {"webhooks": {"team": {"url": url, "format": fmt}},
             "rules": [{"name": "signups", "kind": "below", "event": "SIGNUP", "fewer_than": 1, "by": "10:00",
                        "to": "team"}]}
    return create_app({"TESTING": True, "STORE": f"sqlite:///{tmp_path}/c.sqlite3", "CLOCK": lambda: NOW,
                       "ALERTS": rules, **config})


def test_slack_and_discord_bodies_have_their_documented_shape():
    slack = json.loads(webhook.body(Webhook("s", "https://hooks.slack.com/services/T/B/X", "slack"), ALERT))
    assert set(slack) <= SLACK_FIELDS and slack["text"] == ALERT["text"]
    discord = json.loads(webhook.body(Webhook("d", "https://discord.com/api/webhooks/1/x", "discord"),
                                      {**ALERT, "text": "x" * 3000}))
    assert set(discord) == {"content", "allowed_mentions"} and len(discord["content"]) == 2000
    assert discord["allowed_mentions"] == {"parse": []}  # an event name can never ping @everyone


def test_a_local_receiver_gets_one_signed_json_message(tmp_path):
    with Receiver() as receiver:
        app = app_with(tmp_path, receiver.url, "json", ALERTS_SECRET=SECRET, ALERTS_ALLOW_PRIVATE="127.0.0.1/32")
        result = app.test_cli_runner().invoke(args=["alerts", "check"])
        assert result.exit_code == 0, result.output
        ((path, headers, body),) = receiver.requests
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Counter-Signature"], expected)
    message = json.loads(body)
    assert (message["id"], message["rule"], message["state"], message["period"]) == (
        "signups:20261127:firing", "signups", "firing", 20261127)
    assert message["text"] == ("Alert: signups: fewer than 1 SIGNUP by 10:00. 0 SIGNUP today by 12:00, fewer than 1 "
                               "(2026-11-27 12:00 UTC).")


def test_a_receiver_failing_twice_gets_the_message_once(tmp_path):
    waited = []
    with Receiver([500, 503]) as receiver:
        app = app_with(tmp_path, receiver.url, ALERTS_ALLOW_PRIVATE="127.0.0.1/32")
        with app.app_context():
            lines, delivered = alerts.run(sleep=waited.append)
        assert delivered and "(3 attempts)" in lines[0]
        bodies = [body for _, _, body in receiver.requests]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same message, accepted by the third
    assert waited == [0.5, 1.0]


def test_a_refusal_is_not_retried_and_the_mark_is_released(tmp_path):
    with Receiver([404]) as receiver:
        app = app_with(tmp_path, receiver.url, ALERTS_ALLOW_PRIVATE="127.0.0.1/32")
        with app.app_context():
            lines, delivered = alerts.run(sleep=lambda seconds: None)
            assert get_store().alert_state().marks == {}
        assert not delivered and "answered 404" in lines[0] and len(receiver.requests) == 1


def test_a_receiver_that_never_answers_is_retried_until_the_attempts_end(monkeypatch):
    monkeypatch.setattr(webhook, "ATTEMPT_TIMEOUT", 0.2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hook = Webhook("t", f"http://127.0.0.1:{silent.getsockname()[1]}/", "slack")
        with pytest.raises(webhook.Undelivered, match="after 4 attempts"):
            webhook.send(hook, b"{}", secret=None, allowed=webhook.networks("127.0.0.1/32"), sleep=lambda s: None)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/", "https://localhost/hook", "https://10.1.2.3/", "https://172.16.0.1/",
    "https://192.168.1.1/", "https://169.254.169.254/latest/meta-data/", "https://[::1]/", "https://[fd00::1]/",
    "https://[fe80::1]/", "https://[::ffff:10.0.0.1]/", "https://100.64.0.1/", "https://0.0.0.0/",
    "https://224.0.0.1/",
], ids=lambda url: url.split("/")[2])
def test_private_and_reserved_targets_are_refused(url):
    with pytest.raises(webhook.Refused, match="private or reserved"):
        webhook.address(url, [])


def test_a_refused_target_gets_nothing(tmp_path):
    with Receiver() as receiver:
        app = app_with(tmp_path, receiver.url)  # no ALERTS_ALLOW_PRIVATE
        result = app.test_cli_runner().invoke(args=["alerts", "check"])
        assert result.exit_code == 1 and "127.0.0.1, a private or reserved address" in result.output
        assert receiver.requests == []


def test_only_allowed_networks_open_and_public_targets_need_https():
    assert webhook.address("http://127.0.0.1:8000/", webhook.networks("127.0.0.0/8")) == "127.0.0.1"
    with pytest.raises(webhook.Refused, match="private"):
        webhook.address("https://10.0.0.1/", webhook.networks("127.0.0.0/8"))
    with pytest.raises(webhook.Refused, match="not https") as refused:
        webhook.address("http://93.184.215.14/services/T0/B0/SECRET", [])
    assert "SECRET" not in str(refused.value)
    assert webhook.address("https://93.184.215.14/", []) == "93.184.215.14"


@pytest.mark.parametrize(("rules", "sentence"), [
    ({"rules": [{"name": "x", "kind": "sideways"}]}, "COUNTER_ALERTS: rule 'x': 'kind' must be one of"),
    ({"rules": [{"name": "Bad Name"}]}, "every rule needs a 'name'"),
    ({"webhooks": {"t": {"url": "ftp://x"}}}, "webhook 't': 'url' must be an https:// address"),
    ({"webhooks": {"t": {"url": "https://x"}}, "rules": [
        {"name": "a", "kind": "below", "event": "SIGNUP", "fewer_than": 1, "by": "25:00", "to": "t"}]},
     "rule 'a': 'by' must be a local time"),
    ({"webhooks": {"t": {"url": "https://x"}}, "rules": [
        {"name": "a", "kind": "zero", "event": "A", "hours": 6, "while": "B", "to": "t"}]}, "needs more_than"),
    ({"webhooks": {"t": {"url": "https://x", "format": "json"}}, "rules": [
        {"name": "a", "kind": "above", "event": "A", "times": 3, "to": "t"}]}, "set COUNTER_ALERTS_SECRET"),
    ("/nowhere/alerts.toml", "cannot read '/nowhere/alerts.toml'"),
    ("{not json", "COUNTER_ALERTS: Expecting property name"),
])
def test_a_bad_rule_stops_the_app_with_one_sentence(tmp_path, rules, sentence):
    with pytest.raises(SettingsError, match="^COUNTER_ALERTS") as caught:
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "ALERTS": rules})
    assert sentence in str(caught.value)


def test_rules_come_from_a_toml_file_named_in_the_environment(tmp_path, monkeypatch):
    rules = tmp_path / "alerts.toml"
    rules.write_text('[webhooks.team]\nurl = "https://hooks.slack.com/services/T/B/X"\n\n[[rules]]\n'
                     'name = "signups-stopped"\nkind = "zero"\nevent = "SIGNUP"\nhours = 6\nwhile = "PAGEVIEW"\n'
                     'more_than = 100\nto = "team"\n')
    monkeypatch.setenv("COUNTER_ALERTS", str(rules))
    monkeypatch.setenv("COUNTER_ALERTS_SECRET", "0" * 16)  # text, even when it reads as a number
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})
    (rule,) = app.extensions["counter.alerts"]
    assert rule.describe() == "no SIGNUP for 6 hours while PAGEVIEW counted more than 100"
    assert app.config["ALERTS_SECRET"] == "0" * 16


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    """A second DNS answer (rebinding to a private address) cannot redirect the message: nothing resolves twice."""
    real = socket.getaddrinfo
    answers = []

    def rebinding(host, *args, **kwargs):
        if host != "hooks.example":
            return real(host, *args, **kwargs)
        answers.append(host)
        return real("127.0.0.1" if len(answers) == 1 else "10.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Receiver(host="hooks.example") as receiver:
        hook = Webhook("t", receiver.url, "slack")
        assert webhook.send(hook, b"{}", secret=None, allowed=webhook.networks("127.0.0.1/32")) == 1
        ((_, headers, _),) = receiver.requests
    assert answers == ["hooks.example"] and headers["Host"] == f"hooks.example:{receiver.url.split(':')[2][:-5]}"


def test_https_checks_the_certificate_of_the_urls_host_at_the_pinned_address(tmp_path, monkeypatch):
    from tests.certificates import authority

    ca, server = authority(tmp_path, "hooks.example")
    monkeypatch.setattr(webhook, "tls_context", lambda: ssl.create_default_context(cafile=ca))
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real(
        "127.0.0.1" if host.endswith(".example") else host, *args, **kwargs))
    allowed = webhook.networks("127.0.0.1/32")
    with Receiver(tls=server, host="hooks.example") as receiver:
        assert webhook.send(Webhook("t", receiver.url, "slack"), b"{}", secret=None, allowed=allowed) == 1
        wrong = receiver.url.replace("hooks.example", "other.example")
        with pytest.raises(webhook.Undelivered, match="Hostname mismatch"):  # the certificate names another host
            webhook.send(Webhook("t", wrong, "slack"), b"{}", secret=None, allowed=allowed, sleep=lambda s: None)
        assert len(receiver.requests) == 1


def test_no_attempt_starts_after_the_checks_deadline():
    with Receiver() as receiver:
        hook = Webhook("t", receiver.url, "slack")
        with pytest.raises(webhook.Undelivered, match="no time left"):
            webhook.send(hook, b"{}", secret=None, allowed=webhook.networks("127.0.0.1/32"), deadline=0.0)
        assert receiver.requests == []
