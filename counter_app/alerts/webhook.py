"""Send an alert to a webhook: only to public addresses (unless allowed), signed, retried on 5xx and timeouts."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from .rules import Webhook

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ATTEMPTS = 4
FIRST_BACKOFF = 0.5  # seconds, doubled after each failed attempt
ATTEMPT_TIMEOUT = 2.0  # seconds to connect and to wait for each read
SIGNATURE = "X-Counter-Signature"
USER_AGENT = "counter-alerts/1"


class Refused(Exception):
    """The webhook's address is not one the counter may send to: nothing was sent."""


class Undelivered(Exception):
    """Every attempt failed, or the receiver refused the message."""


def networks(setting: Any) -> list[Network]:
    """The private networks ``COUNTER_ALERTS_ALLOW_PRIVATE`` opens, such as ``"127.0.0.1/32, ::1/128"``.

    :raises ValueError: naming the setting, for a value that is not a list of networks.
    """
    if setting in (None, "", False):
        return []
    try:
        return [ipaddress.ip_network(part.strip()) for part in str(setting).split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"COUNTER_ALERTS_ALLOW_PRIVATE: {exc}; write networks such as 127.0.0.1/32") from None


def body(hook: Webhook, alert: dict[str, Any]) -> bytes:
    """The JSON body for ``hook``'s format: Slack's ``text``, Discord's ``content``, or the whole alert."""
    if hook.format == "slack":
        return json.dumps({"text": alert["text"]}).encode()
    if hook.format == "discord":
        return json.dumps({"content": alert["text"][:2000], "allowed_mentions": {"parse": []}}).encode()
    return json.dumps(alert, sort_keys=True).encode()


def sign(payload: bytes, secret: str) -> str:
    """The ``X-Counter-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def address(url: str, allowed: Sequence[Network]) -> str:
    """The one address to connect to for ``url``: every address its host resolves to must be public, or allowed.

    :raises Refused: naming the host and the address that is not allowed.
    """
    parts = urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname or "", parts.port or _port(parts.scheme), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise Refused(f"{parts.hostname!r} does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(entry[4][0].split("%")[0]) for entry in found]
    for ip in addresses:
        mapped = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:10.0.0.1 is 10.0.0.1
        opened = any(mapped in network for network in allowed)
        if not opened and (not mapped.is_global or mapped.is_multicast):
            raise Refused(f"{parts.hostname} resolves to {ip}, a private or reserved address; "
                          "COUNTER_ALERTS_ALLOW_PRIVATE may open it")
        if parts.scheme != "https" and not opened:
            # The host alone: a webhook's path is often its secret (Slack's and Discord's are).
            raise Refused(f"http://{parts.hostname} is not https: only an allowed private address may use http")
    return str(addresses[0])


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def send(hook: Webhook, payload: bytes, *, secret: str | None, allowed: Sequence[Network],
         sleep: Callable[[float], None] = time.sleep, deadline: float | None = None) -> int:
    """POST ``payload`` to ``hook``, again after a 5xx, a 429 or a timeout, with backoff, until ``deadline``.

    The address is checked once and pinned: the connection goes to the address checked, not to a second lookup.

    :param deadline: a ``time.monotonic()`` after which no attempt starts.
    :return: the attempts made.
    :raises Refused: for an address that is not allowed; nothing is sent.
    :raises Undelivered: if no attempt was accepted.
    """
    target = address(hook.url, allowed)
    if deadline is not None and time.monotonic() > deadline:
        raise Undelivered(f"webhook {hook.name}: no time left in this check")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if secret:
        headers[SIGNATURE] = sign(payload, secret)
    wait, problem = FIRST_BACKOFF, ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            status = _post(hook.url, target, payload, headers)
        except ssl.SSLCertVerificationError as exc:  # not a passing fault: no retry will fix it
            raise Undelivered(f"webhook {hook.name}: {exc.verify_message}") from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused or reset connections
            status, problem = 0, type(exc).__name__
        if 200 <= status < 300:
            return attempt
        if status and status < 500 and status != 429:
            raise Undelivered(f"webhook {hook.name} answered {status}")
        problem = f"answered {status}" if status else problem
        if attempt == ATTEMPTS or (deadline is not None and time.monotonic() + wait > deadline):
            break
        sleep(wait)
        wait *= 2
    raise Undelivered(f"webhook {hook.name}: {problem} after {attempt} attempts")


def _post(url: str, target: str, payload: bytes, headers: dict[str, str]) -> int:
    parts = urlsplit(url)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = kind(parts.hostname or "", parts.port or _port(parts.scheme), target)
    try:
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), payload, headers)
        reply = conn.getresponse()
        reply.read(64 * 1024)
        return reply.status
    finally:
        conn.close()


def tls_context() -> ssl.SSLContext:
    """The system's trusted authorities, with host names checked: what every https webhook is verified against."""
    return ssl.create_default_context()


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to the checked address, naming the URL's host in ``Host``."""

    def __init__(self, host: str, port: int, target: str) -> None:
        super().__init__(host, port, timeout=ATTEMPT_TIMEOUT)
        self.target = target

    def connect(self) -> None:
        self.sock = socket.create_connection((self.target, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS, the certificate checked against the URL's host."""

    def __init__(self, host: str, port: int, target: str) -> None:
        super().__init__(host, port, timeout=ATTEMPT_TIMEOUT, context=tls_context())
        self.target = target

    def connect(self) -> None:
        sock = socket.create_connection((self.target, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
