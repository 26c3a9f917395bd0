"""Part 1: HTTP increments per second through gunicorn, the counter on SQLite against a bare Flask app."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import BROWSER, ROOT, Size, compare, median
from tests.debian import ensure
from tests.dynalite import free_port, wait_for_port

WORKERS = 2
CONNECTIONS = 4  # two per worker, so a worker never waits for wrk between requests
PATH = "/?e=PAGEVIEW"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing."""
    return ensure("wrk", "wrk")


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve ``app`` with gunicorn's sync workers on 127.0.0.1; yield the URL to load."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
             "--chdir", str(ROOT), app],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}{PATH}"
        for _ in range(WORKERS * 4):  # each worker imports the app before its first answer
            urllib.request.urlopen(url, timeout=10).read()
        yield url
    except Exception:
        sys.stderr.write(log.read_text())
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def load(url: str, seconds: float, script: Path | None = None, *args: str) -> dict[str, float]:
    """One wrk run: requests per second and p50/p99 latency in ms; any error fails the run.

    :param script: a wrk Lua script that makes the requests, given ``args``.
    """
    duration = max(1, round(seconds))
    scripted = ["--script", str(script)] if script else []
    out = subprocess.run(
        [wrk(), "--threads", "1", "--connections", str(CONNECTIONS), "--duration", f"{duration}s",
         "--timeout", "5s", "--latency", "--header", f"User-Agent: {BROWSER}", *scripted, url, "--", *args],
        check=True, capture_output=True, text=True, timeout=duration + 30,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return round(float(value) * _UNITS[unit], 3)

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
    }


def summarize(runs: list[dict[str, float]]) -> dict:
    """Medians over runs, and the runs themselves."""
    return {key: median([run[key] for run in runs]) for key in ("rps", "p50_ms", "p99_ms")} | {"runs": runs}


def measure(size: Size) -> dict:
    """Alternate wrk runs against both servers; report medians and the median ratio."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        database = Path(tmp, "bench.sqlite3")
        targets = {
            "app": servers.enter_context(
                gunicorn("wsgi:app", {"COUNTER_STORE": f"sqlite:///{database}"}, Path(tmp, "app.log"))
            ),
            "bare": servers.enter_context(gunicorn("bench.bare_app:app", {}, Path(tmp, "bare.log"))),
        }
        if size.warmup:
            for url in targets.values():
                load(url, size.warmup)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(size.runs):
            for name, url in targets.items():
                runs[name].append(load(url, size.seconds))
        servers.close()
        (counted,) = sqlite3.connect(database).execute("SELECT SUM(count) FROM TEST_counters").fetchone()
    return {
        "server": f"gunicorn, {WORKERS} sync workers, 127.0.0.1",
        "load": f"wrk, 1 thread, {CONNECTIONS} connections, {max(1, round(size.seconds))}s a run, GET {PATH}",
        "app": summarize(runs["app"]),
        "bare": summarize(runs["bare"]),
        "ratio": compare([r["rps"] for r in runs["app"]], [r["rps"] for r in runs["bare"]]),
        "counted": counted,
        "requests": sum(run["requests"] for run in runs["app"]),
    }
