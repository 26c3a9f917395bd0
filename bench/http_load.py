"""Part 1: HTTP increments per second through gunicorn, the counter on SQLite against a bare Flask app.

wrk sends ``GET /?e=PAGEVIEW`` with the User-Agent of each of the 100 real browsers in tests/data/user_agents.tsv
in turn (a Lua script), so the bot check sees what a site's visitors send, at two load shapes (:data:`SHAPES`).
"""

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
from functools import partial
from pathlib import Path

from bench import BROWSER, ROOT, Size, alternate, compare, median
from tests.debian import ensure
from tests.gunicorn import Gunicorn, workers_of

WORKERS = 2
SERVER = f"gunicorn, {WORKERS} sync workers, 127.0.0.1"
# wrk threads × connections: two connections per worker, so a worker never waits for wrk; then sixteen.
SHAPES = {"1x4": (1, 4), "2x16": (2, 16)}
PATH = "/?e=PAGEVIEW"
AGENTS = ROOT / "tests" / "data" / "user_agents.tsv"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing."""
    return ensure("wrk", "wrk")


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """Serve ``app`` warmed up on 127.0.0.1; yield the URL to load and the master's pid; on a failure, show the log."""
    try:
        with Gunicorn(env, log, WORKERS, app=app) as server:
            url = f"{server.url}{PATH}"
            for _ in range(WORKERS * 4):  # each worker imports the app before its first answer
                urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": BROWSER}), timeout=10).read()
            yield url, server.process.pid
    except Exception:
        sys.stderr.write(log.read_text())
        raise


def browsers() -> list[str]:
    """The real browsers' User-Agents of tests/data/user_agents.tsv."""
    rows = (line.split("\t", 1) for line in AGENTS.read_text().splitlines() if not line.startswith("#"))
    return [agent for kind, agent in rows if kind == "browser"]


def agent_script(folder: Path) -> Path:
    """A wrk script that gives each request the next browser's User-Agent, round and round."""
    agents = ",\n".join(f"  [==[{agent}]==]" for agent in browsers())  # Lua long strings: no escaping
    script = folder / "agents.lua"
    script.write_text(f"local agents = {{\n{agents}\n}}\nlocal n = 0\n"
                      "request = function()\n  n = n % #agents + 1\n"
                      "  return wrk.format(nil, nil, {[\"User-Agent\"] = agents[n]})\nend\n")
    return script


def worker_cpu_seconds(master: int) -> float:
    """User and system CPU the gunicorn master's workers have used so far."""
    total = 0
    for pid in workers_of(master):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of stat
    return total / CLOCK_TICKS


def load(url: str, seconds: float, script: Path | None = None, *args: str, shape: tuple[int, int] = SHAPES["1x4"],
         master: int | None = None) -> dict[str, float]:
    """One wrk run: requests per second, p50/p99 latency in ms and, given the gunicorn ``master``, worker CPU µs
    per request; any error fails the run.

    :param script: a wrk Lua script that makes the requests, given ``args``; without one every request is
        ``url`` with one browser's User-Agent.
    """
    duration = max(1, round(seconds))
    threads, connections = shape
    scripted = ["--script", str(script)] if script else []
    cpu = worker_cpu_seconds(master) if master else 0.0
    done = subprocess.run(
        [wrk(), "--threads", str(threads), "--connections", str(connections), "--duration", f"{duration}s",
         "--timeout", "5s", "--latency", "--header", f"User-Agent: {BROWSER}", *scripted, url, "--", *args],
        check=True, capture_output=True, text=True, timeout=duration + 30,
    )
    cpu, out = (worker_cpu_seconds(master) - cpu if master else 0.0), done.stdout
    if "Non-2xx" in out or "Socket errors" in out or done.stderr.strip():  # a script error: wrk goes on without
        raise RuntimeError(f"wrk saw failed requests:\n{out}\n{done.stderr}")

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return round(float(value) * _UNITS[unit], 3)

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        **({"cpu_us": round(cpu / requests * 1e6, 1)} if master else {}),
    }


def summarize(runs: list[dict[str, float]]) -> dict:
    """Medians over runs, and the runs themselves."""
    return {key: median([run[key] for run in runs]) for key in ("rps", "p50_ms", "p99_ms", "cpu_us")} | {"runs": runs}


def measure(size: Size) -> dict:
    """For each load shape, alternate wrk runs against both servers; report medians and the median ratio."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        database = Path(tmp, "bench.sqlite3")
        script = agent_script(Path(tmp))
        targets = {
            "app": servers.enter_context(
                gunicorn("wsgi:app", {"COUNTER_STORE": f"sqlite:///{database}"}, Path(tmp, "app.log"))
            ),
            "bare": servers.enter_context(gunicorn("bench.bare_app:app", {}, Path(tmp, "bare.log"))),
        }
        result: dict = {"server": SERVER, "agents": f"{len(browsers())} real browsers' User-Agents in turn"}
        requests = 0
        for shape_name, shape in SHAPES.items():
            runs = alternate({name: partial(load, url, script=script, shape=shape, master=master)
                              for name, (url, master) in targets.items()}, size)
            requests += sum(run["requests"] for run in runs["app"])
            threads, connections = shape
            result[shape_name] = {
                "load": f"wrk, {threads} thread(s), {connections} connections, {max(1, round(size.seconds))}s a "
                        f"run, GET {PATH}",
                "app": summarize(runs["app"]),
                "bare": summarize(runs["bare"]),
                "ratio": compare([r["rps"] for r in runs["app"]], [r["rps"] for r in runs["bare"]]),
            }
        servers.close()
        (counted,) = sqlite3.connect(database).execute("SELECT SUM(count) FROM TEST_counters").fetchone()
    return result | {"counted": counted, "requests": requests}
