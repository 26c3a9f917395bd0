"""Servers on 127.0.0.1 for tests: a free port, waiting for it, the base every server process shares, and dynalite.

dynalite is a DynamoDB-compatible server from npm.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
PREFIX = ROOT / ".tools" / "node"
CLI = PREFIX / "node_modules" / "dynalite" / "cli.js"
LAUNCHER = Path(__file__).with_name("dynalite.js")  # keeps it serving when a client goes away mid-request
VERSION = "4.0.0"


def install() -> Path:
    """Install dynalite with npm into the ignored ``.tools/node`` folder, once."""
    if not CLI.exists():
        PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", f"dynalite@{VERSION}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return CLI


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on ``127.0.0.1:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class LocalServer:
    """A server process listening on 127.0.0.1:``port``, whose :meth:`command` a subclass gives.

    :param log: where its output goes; without one, its stdout is discarded and its stderr is :attr:`stderr`.
    :param env: variables added to this process's environment for it.
    """

    startup_timeout = 15.0
    stderr: int | None = None  # this process's stderr: what a server that fails to start says shows

    def __init__(self, port: int | None = None, *, log: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The command line that serves on :attr:`port`."""
        raise NotImplementedError

    def start(self) -> Self:
        """Start the process and wait for its port; a process that never listens is killed, not left behind."""
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, env={**os.environ, **self.env}, stdout=out,
                                            stderr=subprocess.STDOUT if self.log else self.stderr)
        finally:
            if self.log:
                out.close()
        try:
            wait_for_port(self.port, self.startup_timeout)
        except BaseException:
            self.process.kill()
            self.process.wait(timeout=10)
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Dynalite(LocalServer):
    """One dynalite server process; ``endpoint`` is its URL; ``options`` go to its command line."""

    def __init__(self, port: int | None = None, *options: str) -> None:
        super().__init__(port)
        self.options = options

    def command(self) -> list[str]:
        return ["node", str(LAUNCHER), str(install()), "--host", "127.0.0.1", "--port", str(self.port),
                "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0", *self.options]
