"""Run dynalite, a DynamoDB-compatible server from npm, on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = ROOT / ".tools" / "node"
CLI = PREFIX / "node_modules" / "dynalite" / "cli.js"
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


class Dynalite:
    """One dynalite server process; ``endpoint`` is its URL; ``options`` go to its command line."""

    def __init__(self, port: int | None = None, *options: str) -> None:
        self.port = port or free_port()
        self.options = options
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Dynalite:
        cli = install()
        self.process = subprocess.Popen(
            ["node", str(cli), "--host", "127.0.0.1", "--port", str(self.port),
             "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0", *self.options],
            stdout=subprocess.DEVNULL,
            env={**os.environ},
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
