"""One deadline per request, which every store call and retry respects: past it the request answers 503."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Flask, g, request

from .storage.base import StoreUnavailable

# Kept back from Lambda's remaining time: the 503 and Zappa's conversion of it must leave before the timeout.
MARGIN = 0.5
clock: Callable[[], float] = time.monotonic  # tests put a clock of their own here


@dataclass(frozen=True)
class Deadline:
    """The moment, on ``clock``, by which the request must have its answer."""

    at: float
    clock: Callable[[], float]

    def left(self) -> float:
        """Seconds until the deadline (negative once past)."""
        return self.at - self.clock()


_current: ContextVar[Deadline | None] = ContextVar("counter_deadline", default=None)


class OutOfTime(StoreUnavailable):
    """The next store call could end after the request's deadline, so it is not sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, transient=True)


def check(seconds: float) -> None:
    """Raise :class:`OutOfTime` unless ``seconds`` (the most the next step can take) fit before the deadline.

    Outside a request with a deadline (the CLI, import and export) it never raises.
    """
    deadline = _current.get()
    if deadline is not None and deadline.left() < seconds:
        raise OutOfTime(f"the request's deadline is {max(deadline.left(), 0):.2f} s away, less than the "
                        f"{seconds:g} s the store may take next")


def paced(sleep: Callable[[float], None], then: float) -> Callable[[float], None]:
    """``sleep``, except that a pause after which a call of ``then`` seconds would end past the deadline raises."""

    def pause(seconds: float) -> None:
        check(seconds + then)
        sleep(seconds)

    return pause


def seconds_for(environ: dict, config: dict) -> float:
    """How long a request may take: on Lambda its remaining time less :data:`MARGIN`, elsewhere ``REQUEST_SECONDS``."""
    context = environ.get("lambda.context")  # Zappa's handler puts Lambda's context object here
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return context.get_remaining_time_in_millis() / 1000 - MARGIN
    return config["REQUEST_SECONDS"]


def init_app(app: Flask) -> None:
    """Give every request its deadline, and forget it when the request ends."""

    @app.before_request
    def _begin() -> None:
        g.deadline_token = _current.set(Deadline(clock() + seconds_for(request.environ, app.config), clock))

    @app.teardown_request
    def _end(exc: BaseException | None) -> None:
        token = g.pop("deadline_token", None)
        if token is not None:
            _current.reset(token)
