"""A WSGI app (the counter by default) served by gunicorn on 127.0.0.1, and the pids of its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.dynalite import ROOT, LocalServer


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


class Gunicorn(LocalServer):
    """``app`` with ``workers`` sync workers and ``env`` (COUNTER_* settings); ``kill_worker`` SIGKILLs one."""

    def __init__(self, env: dict[str, str], log: Path | None = None, workers: int = 2, app: str = "wsgi:app") -> None:
        super().__init__(log=log, env=env)
        self.workers = workers
        self.app = app
        self.url = self.endpoint

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                "--chdir", str(ROOT), "--graceful-timeout", "2", self.app]

    def kill_worker(self) -> int | None:
        """SIGKILL one worker (gunicorn starts another); return its pid, or ``None`` if there was none."""
        assert self.process is not None
        victims = workers_of(self.process.pid)
        if not victims:
            return None
        os.kill(victims[0], signal.SIGKILL)
        return victims[0]

    def stop(self) -> None:
        """SIGTERM: the workers finish the requests they hold; SIGKILL if that takes too long."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            super().stop()
