"""Durability: SIGKILL gunicorn workers under load; every acknowledged increment must be stored."""

import http.client
import json
import sqlite3
import threading
import time

import pytest

from tests.gunicorn import Gunicorn

CLIENTS, MAX_EACH, LOAD_SECONDS = 4, 500, 4.0
KILL_AFTER_ACKS = (60, 200)  # SIGKILL a worker when this many increments were acknowledged
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def gunicorn(tmp_path):
    with Gunicorn({"COUNTER_STORE": f"sqlite:///{tmp_path}/durable.sqlite3"}) as server:
        yield server, tmp_path / "durable.sqlite3"


def test_acknowledged_increments_survive_killed_workers(gunicorn):
    server, path = gunicorn
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
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
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
        victim = server.kill_worker()
        if victim:
            killed.append(victim)
    for thread in threads:
        thread.join()

    stored = sqlite3.connect(path).execute("SELECT sum(count) FROM TEST_counters WHERE event = 'DURABLE'").fetchone()[0]
    print(f"durability: sent={tally['sent']} acked={tally['acked']} stored={stored} killed={len(killed)}")
    assert len(killed) == len(KILL_AFTER_ACKS)
    assert tally["acked"] >= KILL_AFTER_ACKS[-1]
    assert tally["acked"] <= stored <= tally["sent"]
