"""When counts become visible: the store read every ``POLL`` seconds while hits are answered."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from typing import Any, Self

from bench.browsers import percentile

POLL = 0.05  # seconds between reads: the delays' resolution


class Watch:
    """Read ``event``'s count of ``day`` from ``store`` every :data:`POLL` seconds, in a thread, while entered."""

    def __init__(self, store: Any, day: int, event: str) -> None:
        self.store, self.day, self.event = store, day, event
        self.seen: list[tuple[float, int]] = []  # (monotonic time, count) of every read
        self.cpu_s = 0.0  # CPU time the reads took in this process (the stand-in's answers to them apart)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def counts(self) -> dict[str, int]:
        """Every count of the day, read now."""
        return self.store.get([self.day]).get(self.day, {})

    def _poll(self) -> None:
        while not self._stop.wait(POLL):
            cpu = time.thread_time()
            try:
                count = self.counts().get(self.event, 0)
            except Exception:  # noqa: BLE001 (a read refused under load is a read missed, not the end of the watch)
                continue
            finally:
                self.cpu_s += time.thread_time() - cpu
            self.seen.append((time.monotonic(), count))

    def until(self, count: int, timeout: float) -> None:
        """Block until a read shows at least ``count``, or ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (self.seen and self.seen[-1][1] >= count):
            time.sleep(POLL)

    def delays(self, acked: list[float]) -> dict[str, float | int | None]:
        """p50 and p99 of the delay from each 200 (``acked``, sorted times) until a read showed it, in ms.

        Counts carry no ids, so the k-th answer counts as shown by the first read of k or more (after it;
        0 if one before it already did). Answers no read showed are counted apart, as ``never``.
        """
        times, counts = [t for t, _ in self.seen], [c for _, c in self.seen]
        peak = list(itertools.accumulate(counts, max))  # the count never falls: a read lower than before lagged
        delays, never = [], 0
        for k, at in enumerate(acked, start=1):
            first = bisect.bisect_left(peak, k)
            if first == len(peak):
                never += 1
            else:
                delays.append(max(0.0, times[first] - at))
        return {"p50": percentile(delays, 0.5), "p99": percentile(delays, 0.99), "never": never,
                "resolution_ms": POLL * 1000}
