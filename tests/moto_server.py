"""moto's DynamoDB served by a single thread on 127.0.0.1: the test store that runs transactions exactly.

dynalite has no TransactWriteItems, and ``moto_server`` serves each request on its own thread, where
concurrent updates are lost. One thread applies requests one at a time, as DynamoDB's own
transactions make them appear.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.dynalite import ROOT, LocalServer


class MotoServer(LocalServer):
    """One single-threaded moto process; ``endpoint`` is its URL. ``pause`` and ``resume`` stop and continue it."""

    startup_timeout = 30.0
    stderr = subprocess.DEVNULL  # werkzeug logs every request there

    def __init__(self) -> None:
        super().__init__(env={"PYTHONPATH": str(ROOT)})

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.moto_server", str(self.port)]

    def pause(self) -> None:
        """SIGSTOP: the server takes connections into its backlog and answers none until resumed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        super().stop()


def serve(port: int) -> None:
    """Serve every moto backend on ``127.0.0.1:port`` with one thread, as ``moto_server`` would with many."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=False,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
