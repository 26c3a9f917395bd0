"""A person who opens the counter's address in a browser gets the dashboard; API clients keep the JSON 400."""

from __future__ import annotations

import os
import signal
import subprocess

from tests.dynalite import free_port
from tests.lambda_package import ROOT, sandbox_environ

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
           "Safari/537.36", "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_at_the_root_goes_to_the_dashboard(client):
    reply = client.get("/", headers=BROWSER)
    assert reply.status_code == 302 and reply.headers["Location"] == "/dashboard"
    assert reply.headers["Cache-Control"] == "no-store"


def test_behind_a_stage_the_redirect_keeps_it(client):
    reply = client.get("/", headers=BROWSER, environ_overrides={"SCRIPT_NAME": "/prod"})
    assert reply.headers["Location"] == "/prod/dashboard"


def test_api_clients_keep_the_json_400(client):
    for accept in ("*/*", "application/json", None):
        headers = {**BROWSER, "Accept": accept} if accept else {"User-Agent": BROWSER["User-Agent"]}
        reply = client.get("/", headers=headers)
        assert reply.status_code == 400 and reply.json["error"].startswith("Missing 'e'")
    assert client.post("/", headers=BROWSER).status_code == 400  # a form without e is still an error


def test_a_browser_with_e_counts(client):
    assert client.get("/?e=PAGEVIEW", headers=BROWSER).json["count"] == 1


def test_make_run_prints_the_dashboard(tmp_path):
    port = free_port()
    env = sandbox_environ(COUNTER_STORE=f"sqlite:///{tmp_path}/c.sqlite3")
    with subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True) as make:
        try:
            lines = []
            for line in make.stdout:  # pip's lines come first if make installs
                lines.append(line)
                if "dashboard" in line or len(lines) > 50:
                    break
        finally:
            os.killpg(make.pid, signal.SIGTERM)  # make and the flask it started
    assert any(f"the dashboard: http://127.0.0.1:{port}/dashboard\n" in line for line in lines), lines
