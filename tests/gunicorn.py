"""The counter served by gunicorn on 127.0.0.1, as in production-like tests, and the pids of its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.dynalite import ROOT, free_port, wait_for_port


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


class Gunicorn:
    """``wsgi:app`` with ``workers`` sync workers and ``env`` (COUNTER_* settings); ``kill_worker`` SIGKILLs one."""

    def __init__(self, env: dict[str, str], log: Path | None = None, workers: int = 2) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT), "--graceful-timeout", "2", "wsgi:app"],
            env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
        )
        if self.log:
            out.close()
        wait_for_port(self.port)
        return self

    def kill_worker(self) -> int | None:
        """SIGKILL one worker (gunicorn starts another); return its pid, or ``None`` if there was none."""
        assert self.process is not None
        victims = workers_of(self.process.pid)
        if not victims:
            return None
        os.kill(victims[0], signal.SIGKILL)
        return victims[0]

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
