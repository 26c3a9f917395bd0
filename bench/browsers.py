"""Browsers at an offered rate: each hit sent once at its time, and retried with its id as counter.js retries.

counter.js (counter_app/static/counter.js) sends a hit up to ``TRIES = 4`` times: again after 0.5, 1 and 2 s
(``500 << n`` ms) when the answer is 429 or 503 or no answer came, with the same body, so the same id. The load is
open: hits are due at fixed times whatever the answers, as pages load whatever the counter does.

One thread drives every try with non-blocking sockets (a thread per try cost 0.7 ms of CPU a hit, the loop 0.25);
:func:`browse` runs them in a process of their own, out of the stand-in's GIL and apart in the CPU figures.
"""

from __future__ import annotations

import errno
import heapq
import itertools
import selectors
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import BROWSER

RETRY_AFTER = (0.5, 1.0, 2.0)  # counter.js: seconds before the 2nd, 3rd and 4th try
RETRIED = {429, 503, None}  # None: no answer (a connection refused or cut, a timeout)
MOST_OPEN = 3000  # tries awaiting answers at once: a bound on the bench's sockets, far above gunicorn's backlog
TIMEOUT = 10.0  # seconds a browser waits for an answer (fetch has no limit; API Gateway's is 29 s)


@dataclass
class Hit:
    """One hit: ``key`` is its id (``None`` for a plain hit, which is sent once); ``acked`` the time of its 200."""

    event: str
    key: str | None
    due: float
    attempts: list[int | None] = field(default_factory=list)  # each try's status (None: no answer)
    acked: float | None = None
    first_answer_s: float | None = None  # how long the first try waited for its answer
    duplicate: bool = False


@dataclass
class _Try:
    """One try in flight: its socket, what is left to send, what came back, and when it gives up."""

    hit: Hit
    sock: socket.socket
    sent: float
    pending: bytes
    reply: bytearray = field(default_factory=bytearray)


class Browsers:
    """Send ``rate`` idempotent hits a second (and ``plain_rate`` plain ones) to ``url`` for ``seconds``.

    Each try goes out at its time on a connection of its own, however many are waiting for answers (up to
    :data:`MOST_OPEN`): browsers do not wait for each other, so a server that falls behind meets a growing queue.
    ``cpu_s`` is the CPU time of the process while :meth:`run` ran: the browsers' own when run by :func:`browse`.
    """

    def __init__(self, url: str, event: str, rate: float, seconds: float, plain_event: str = "",
                 plain_rate: float = 0.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        start = time.monotonic() + 0.2
        self.hits = [Hit(event, uuid.uuid4().hex, start + n / rate) for n in range(round(rate * seconds))]
        if plain_rate:
            self.hits += [Hit(plain_event, None, start + n / plain_rate) for n in range(round(plain_rate * seconds))]
        self.late: list[float] = []  # how late each first try went out: the load kept its rate if small
        self.first_sent: list[float] = []
        self.unexpected: Counter[int] = Counter()
        self.cpu_s = 0.0
        self._queue = [(hit.due, n, hit) for n, hit in enumerate(self.hits)]
        heapq.heapify(self._queue)
        self._order = itertools.count(len(self.hits))
        self._open: dict[socket.socket, _Try] = {}
        self._selector: selectors.BaseSelector | None = None

    def __getstate__(self) -> dict:
        """What :func:`browse` sends back: the figures, not the loop's machinery."""
        return {name: value for name, value in vars(self).items() if name not in ("_order", "_selector", "_open")}

    def run(self) -> Browsers:
        """Send every hit and its retries, each at its time; return when none is left to send or waiting."""
        cpu = time.process_time()
        self._selector = selectors.DefaultSelector()
        try:
            while self._queue or self._open:
                now = time.monotonic()
                while self._queue and self._queue[0][0] <= now and len(self._open) < MOST_OPEN:
                    due, _, hit = heapq.heappop(self._queue)
                    if not hit.attempts:
                        self.late.append(now - due)
                        self.first_sent.append(now)
                    self._start(hit, now)
                for key, _ in self._selector.select(self._wait()):
                    self._step(key.data)
                now = time.monotonic()
                while self._open and (oldest := next(iter(self._open.values()))).sent + TIMEOUT <= now:
                    self._finish(oldest, None)  # tries are kept in the order they went out
        finally:
            self._selector.close()
        self.cpu_s = time.process_time() - cpu
        return self

    def _wait(self) -> float | None:
        """Seconds until the next try is due or the oldest one in flight gives up; ``None``: until a socket stirs."""
        times = [one.sent + TIMEOUT for one in itertools.islice(self._open.values(), 1)]  # oldest first
        if self._queue and len(self._open) < MOST_OPEN:
            times.append(self._queue[0][0])
        return max(0.0, min(times) - time.monotonic()) if times else None

    def _start(self, hit: Hit, now: float) -> None:
        body = f"e={hit.event}" + (f"&id={hit.key}" if hit.key else "")
        request = (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept-Encoding: identity\r\n"
                   f"Content-Length: {len(body)}\r\nUser-Agent: {BROWSER}\r\n"
                   f"Content-Type: text/plain;charset=UTF-8\r\nConnection: close\r\n\r\n{body}").encode()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        one = _Try(hit, sock, now, request)
        self._open[sock] = one
        assert self._selector is not None
        self._selector.register(sock, selectors.EVENT_WRITE, one)
        if sock.connect_ex((self.host, self.port)) not in (0, errno.EINPROGRESS):
            self._finish(one, None)

    def _step(self, one: _Try) -> None:
        """Send what is left of the request once connected, then read the answer until it is whole."""
        assert self._selector is not None
        try:
            if one.pending:
                if error := one.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    raise OSError(error, "connect")
                one.pending = one.pending[one.sock.send(one.pending):]
                if not one.pending:
                    self._selector.modify(one.sock, selectors.EVENT_READ, one)
                return
            data = one.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self._finish(one, None)
            return
        one.reply += data
        status, body = _parse(one.reply, ended=not data)
        if status is not None or not data:
            self._finish(one, status, body)

    def _finish(self, one: _Try, status: int | None, answer: bytes = b"") -> None:
        """Close the try, record its status, and queue the next try if counter.js would send one."""
        assert self._selector is not None
        self._selector.unregister(one.sock)
        one.sock.close()
        del self._open[one.sock]
        hit, now = one.hit, time.monotonic()
        if status == 200:
            hit.acked = now
            hit.duplicate = b'"duplicate":true' in answer.replace(b" ", b"")
        elif status not in RETRIED:
            self.unexpected[status] += 1
        if not hit.attempts:
            hit.first_answer_s = now - one.sent
        hit.attempts.append(status)
        if hit.key is not None and status in RETRIED and len(hit.attempts) <= len(RETRY_AFTER):
            heapq.heappush(self._queue, (now + RETRY_AFTER[len(hit.attempts) - 1], next(self._order), hit))

    def offered(self) -> dict:
        """The rate the first tries went out at and how late (the load's own check), and how long they waited."""
        span = max(self.first_sent) - min(self.first_sent)
        waits = [hit.first_answer_s for hit in self.hits if hit.first_answer_s is not None]
        return {"sent_per_s": round(len(self.first_sent) / span, 1) if span else None,
                "late_ms_p50": percentile(self.late, 0.5), "late_ms_p99": percentile(self.late, 0.99),
                "answer_ms_p50": percentile(waits, 0.5), "answer_ms_p99": percentile(waits, 0.99)}

    def tally(self, idempotent: bool) -> dict:
        """The idempotent (or plain) hits' figures: tries, first tries that failed, hits answered 200."""
        hits = [hit for hit in self.hits if (hit.key is not None) == idempotent]
        first_failed = sum(1 for hit in hits if hit.attempts[0] != 200)
        return {
            "hits": len(hits),
            "tries": sum(len(hit.attempts) for hit in hits),
            "first_try_failed": first_failed,
            "first_try_failed_pct": round(100 * first_failed / len(hits), 2) if hits else 0.0,
            "acknowledged": sum(1 for hit in hits if hit.acked is not None),
            "answered_duplicate": sum(1 for hit in hits if hit.duplicate),
            "gave_up": sum(1 for hit in hits if hit.acked is None),
        }


def browse(url: str, event: str, rate: float, seconds: float, plain_event: str = "",
           plain_rate: float = 0.0) -> Browsers:
    """:class:`Browsers` run to the end, for a process of their own (their figures come back pickled)."""
    return Browsers(url, event, rate, seconds, plain_event, plain_rate).run()


def _parse(reply: bytearray, ended: bool) -> tuple[int | None, bytes]:
    """The status and body of a whole HTTP answer; ``None`` while it is not whole (or, once ``ended``, never was)."""
    head, found, body = bytes(reply).partition(b"\r\n\r\n")
    if not found:
        return None, b""
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None, b""
    length = next((int(line.split(b":", 1)[1]) for line in lines[1:]
                   if line.lower().startswith(b"content-length:")), None)
    if length is not None and len(body) >= length:
        return status, body[:length]
    return (status, body) if ended and length is None else (None, b"")


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile of ``values`` (seconds) in ms, rounded; ``None`` if there are none."""
    ordered = sorted(values)
    return round(1000 * ordered[int(share * (len(ordered) - 1))], 1) if ordered else None
