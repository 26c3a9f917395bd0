"""Durability: SIGKILL gunicorn workers under load; every acknowledged increment must be stored."""

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.dynalite import ROOT, free_port, wait_for_port

CLIENTS, MAX_EACH, LOAD_SECONDS = 4, 500, 4.0
KILL_AFTER_ACKS = (60, 200)  # SIGKILL a worker when this many increments were acknowledged
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def workers_of(master: int) -> list[int]:
    """The pids whose parent is ``master``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == master:
                found.append(int(entry.name))
    return found


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {**os.environ, "COUNTER_STORE": f"sqlite:///{tmp_path}/durable.sqlite3"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
         "--graceful-timeout", "2", "wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield server, port, tmp_path / "durable.sqlite3"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_acknowledged_increments_survive_killed_workers(gunicorn):
    server, port, path = gunicorn
    tally = {"sent": 0, "acked": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS

    def load():
        for _ in range(MAX_EACH):
            if time.monotonic() > deadline:
                return
            with lock:
                tally["sent"] += 1
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/?e=DURABLE", headers={"User-Agent": BROWSER})
                reply = conn.getresponse()
                body = json.loads(reply.read())
                conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                continue  # the worker died under this request: sent, not acknowledged
            if reply.status == 200 and body.get("status") == "success" and "count" in body:
                with lock:
                    tally["acked"] += 1

    threads = [threading.Thread(target=load) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    killed = []
    for acks in KILL_AFTER_ACKS:
        while tally["acked"] < acks and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        victims = workers_of(server.pid)
        if victims:
            os.kill(victims[0], signal.SIGKILL)
            killed.append(victims[0])
    for thread in threads:
        thread.join()

    stored = sqlite3.connect(path).execute("SELECT sum(count) FROM TEST_counters WHERE event = 'DURABLE'").fetchone()[0]
    print(f"durability: sent={tally['sent']} acked={tally['acked']} stored={stored} killed={len(killed)}")
    assert len(killed) == len(KILL_AFTER_ACKS)
    assert tally["acked"] >= KILL_AFTER_ACKS[-1]
    assert tally["acked"] <= stored <= tally["sent"]
