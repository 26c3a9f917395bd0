"""Visitors without cookies: a day's salted hash of the site, the client's address and its agent.

A visitor is ``HMAC-SHA256(salt of the day, origin + address + User-Agent)`` cut to :data:`DIGEST_BYTES`. The
salt is 32 random bytes the store makes on the day's first use and deletes once the day is over; it is cached
here per day only, never logged, and dropped when a SnapStart snapshot is restored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
from datetime import datetime, timedelta

from flask import Flask, Request, current_app

from . import days
from .cors import request_origin
from .storage import StoreUnavailable, Visitor
from .store import get_store

# 64 bits: at n = 10 million visitors of one event in a day, the expected number of colliding pairs is
# n(n-1)/2 / 2**64 ≈ n²/2**65 ≈ 2.7e-6, so two people share a hash about once in 370,000 such days.
DIGEST_BYTES = 8
VIEWER_ADDRESS = "cloudfront-viewer-address"  # "198.51.100.10:46532": the viewer's address and source port
_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Check the settings and start with no salt cached."""
    config = app.config
    header = config["CLIENT_ADDRESS_HEADER"]
    if header is not None and not (isinstance(header, str) and header.strip().replace("-", "").isalnum()):
        raise ValueError(f"COUNTER_CLIENT_ADDRESS_HEADER={str(header)[:40]!r} must be a header name such as "
                         "CloudFront-Viewer-Address, or unset")
    config["CLIENT_ADDRESS_HEADER"] = header.strip() if header else None
    forget(app)


def forget(app: Flask) -> None:
    """Drop the cached salt (after a SnapStart restore, the copy asks the store again)."""
    app.extensions["counter.salt"] = (None, b"")


def client_address(request: Request) -> str | None:
    """The client's address as the front door guarantees it, ``None`` when it gives none usable.

    - ``CLIENT_ADDRESS_HEADER`` set: that header, which the owner's front door (CloudFront's
      ``CloudFront-Viewer-Address``, or a local proxy) sets; its last entry, without a port.
    - On Lambda: the gateway's ``requestContext`` ``sourceIp`` (v1 ``identity.sourceIp``, v2 ``http.sourceIp``).
      Not ``REMOTE_ADDR``: Zappa fills that from the client's own ``X-Forwarded-For``.
    - Otherwise the socket's peer, ``REMOTE_ADDR``.
    """
    header = current_app.config["CLIENT_ADDRESS_HEADER"]
    if header:
        last = request.headers.get(header, "").rsplit(",", 1)[-1]
        # CloudFront's header always ends in the viewer's source port, which differs per connection.
        return _address(last.strip().rsplit(":", 1)[0] if header.lower() == VIEWER_ADDRESS else last)
    event = request.environ.get("lambda.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        source = (context.get("http") or {}).get("sourceIp") or (context.get("identity") or {}).get("sourceIp")
        return _address(str(source or ""))
    return _address(request.remote_addr or "")


def _address(text: str) -> str | None:
    """``text`` as an IP address (``[v6]`` brackets allowed), ``None`` if it is none."""
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        return None


def visitor(request: Request, day: int) -> Visitor | None:
    """The hit's visitor for ``day`` (today), or ``None``: visitors off, no usable address, or the day is over."""
    app = current_app._get_current_object()
    if not app.config["VISITORS"]:
        return None
    address = client_address(request)
    if address is None:
        return None
    now = days.now()
    zone = app.extensions["counter.timezone"]
    start = datetime.combine(days.from_int(day), datetime.min.time(), zone)
    ends = int((start + timedelta(days=1)).timestamp())
    if ends <= int(now.timestamp()):
        return None  # the day ended while the hit was on its way: its salt may be gone
    salt = _salt(app, day, int(now.timestamp()), ends)
    who = "\n".join((request_origin() or "", address, request.headers.get("User-Agent", "")))
    digest = hmac.new(salt, who.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()[:DIGEST_BYTES]
    return Visitor(digest.hex(), ends)


def _salt(app: Flask, day: int, now: int, ends: int) -> bytes:
    """``day``'s salt, from the cache when it holds that day's, else from the store (which makes it once)."""
    cached_day, salt = app.extensions["counter.salt"]
    if cached_day == day:
        return salt
    with _lock:
        cached_day, salt = app.extensions["counter.salt"]
        if cached_day != day:
            salt = get_store().salt(day, now=now, expires=ends)
            app.extensions["counter.salt"] = (day, salt)
    return salt


def forget_salts() -> str:
    """Delete the expired salts of the days before today, whatever the traffic: the scheduled run's line."""
    now = days.now()
    try:
        get_store().forget_salts(days.to_int(days.today()), now=int(now.timestamp()))
    except StoreUnavailable as exc:
        return f"Salts not purged ({exc}): the next run, or TTL, deletes them."
    return "Salts of the days before today purged."
