"""Browsers at an offered rate: each hit sent once at its time, and retried with its id as counter.js retries.

counter.js (counter_app/static/counter.js) sends a hit up to ``TRIES = 4`` times: again after 0.5, 1 and 2 s
(``500 << n`` ms) when the answer is 429 or 503 or no answer came, with the same body, so the same id. The load is
open: hits are due at fixed times whatever the answers, as pages load whatever the counter does.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import BROWSER

RETRY_AFTER = (0.5, 1.0, 2.0)  # counter.js: seconds before the 2nd, 3rd and 4th try
RETRIED = {429, 503, None}  # None: no answer (a connection refused or cut, a timeout)
MOST_OPEN = 3000  # tries awaiting answers at once: a bound on the bench's threads, far above gunicorn's backlog
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


class Browsers:
    """Send ``rate`` idempotent hits a second (and ``plain_rate`` plain ones) to ``url`` for ``seconds``.

    Each try goes out at its time on a connection of its own, however many are waiting for answers (up to
    :data:`MOST_OPEN`): browsers do not wait for each other, so a server that falls behind meets a growing queue.
    """

    def __init__(self, url: str, event: str, rate: float, seconds: float, plain_event: str = "",
                 plain_rate: float = 0.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        start = time.monotonic() + 0.2
        self.hits = [Hit(event, uuid.uuid4().hex, start + n / rate) for n in range(round(rate * seconds))]
        if plain_rate:
            self.hits += [Hit(plain_event, None, start + n / plain_rate) for n in range(round(plain_rate * seconds))]
        self.late: list[float] = []  # how late each first try went out: the load kept its rate if small
        self.first_sent: list[float] = []
        self.unexpected: Counter[int] = Counter()
        self._queue = [(hit.due, n, hit) for n, hit in enumerate(self.hits)]
        heapq.heapify(self._queue)
        self._order = itertools.count(len(self.hits))
        self._open = 0
        self._ready = threading.Condition()

    def run(self) -> Browsers:
        """Send every hit and its retries, each at its time; return when none is left to send or waiting."""
        while (hit := self._next()) is not None:
            threading.Thread(target=self._try, args=(hit,), daemon=True).start()
        return self

    def _next(self) -> Hit | None:
        """The next try, once it is due; ``None`` when nothing is queued and no answer is awaited."""
        with self._ready:
            while True:
                if not self._queue and not self._open:
                    return None
                now = time.monotonic()
                if self._queue and self._queue[0][0] <= now and self._open < MOST_OPEN:
                    due, _, hit = heapq.heappop(self._queue)
                    if not hit.attempts:
                        self.late.append(now - due)
                        self.first_sent.append(now)
                    self._open += 1
                    return hit
                self._ready.wait(self._queue[0][0] - now if self._queue and self._open < MOST_OPEN else None)

    def _try(self, hit: Hit) -> None:
        sent = time.monotonic()
        status = self._send(hit)
        with self._ready:
            self._open -= 1
            if not hit.attempts:
                hit.first_answer_s = time.monotonic() - sent
            hit.attempts.append(status)
            if hit.key is not None and status in RETRIED and len(hit.attempts) <= len(RETRY_AFTER):
                heapq.heappush(self._queue, (time.monotonic() + RETRY_AFTER[len(hit.attempts) - 1],
                                             next(self._order), hit))
            self._ready.notify_all()

    def _send(self, hit: Hit) -> int | None:
        body = f"e={hit.event}" + (f"&id={hit.key}" if hit.key else "")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            connection.request("POST", "/", body=body, headers={
                "User-Agent": BROWSER, "Content-Type": "text/plain;charset=UTF-8"})
            reply = connection.getresponse()
            answer = reply.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        if reply.status == 200:
            hit.acked = time.monotonic()
            hit.duplicate = b'"duplicate":true' in answer.replace(b" ", b"")
        elif reply.status not in RETRIED:
            self.unexpected[reply.status] += 1
        return reply.status

    def offered(self) -> dict:
        """The rate the first tries went out at and how late (the load's own check), and how long they waited."""
        span = max(self.first_sent) - min(self.first_sent)
        waits = [hit.first_answer_s for hit in self.hits if hit.first_answer_s is not None]
        return {"sent_per_s": round(len(self.first_sent) / span, 1) if span else None,
                "late_ms_p99": percentile(self.late, 0.99),
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


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile of ``values`` (seconds) in ms, rounded; ``None`` if there are none."""
    ordered = sorted(values)
    return round(1000 * ordered[int(share * (len(ordered) - 1))], 1) if ordered else None
