"""A TCP proxy on 127.0.0.1 that can lose or delay replies on purpose: faults that strike after a write."""

from __future__ import annotations

import socket
import threading
import time

from tests.dynalite import free_port

CHUNK = 65536


class Proxy:
    """Forward connections on ``port`` to ``127.0.0.1:upstream``; each connection is one or more request/reply pairs.

    Set ``drop`` to a number and that many of the next replies are read from upstream (so the server did its
    work) and then thrown away with the connection: the client never hears them. Set ``delay`` (seconds) and
    replies are held that long first.
    ``dropped`` and ``delayed`` keep the requests (as sent) of the replies so treated whose status line says
    200 and whose request holds ``marker`` (such as ``b"TransactWriteItems"``; ``b""``: every request).
    ``accepted`` counts the connections clients opened through it.
    """

    def __init__(self, upstream: int, marker: bytes = b"") -> None:
        self.upstream = upstream
        self.marker = marker
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.drop = 0
        self.delay = 0.0
        self.dropped: list[bytes] = []
        self.delayed: list[bytes] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port), backlog=256)
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress; close() alone does not
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)
        except OSError:
            client.close()
            return
        request = bytearray()  # the request now on this connection, as sent so far
        threading.Thread(target=self._requests, args=(client, server, request), daemon=True).start()
        try:
            self._replies(server, client, request)
        finally:
            for end in (client, server):
                try:
                    end.shutdown(socket.SHUT_RDWR)  # wakes the other thread's recv(); close() alone does not
                except OSError:
                    pass
                end.close()

    def _requests(self, client: socket.socket, server: socket.socket, request: bytearray) -> None:
        try:
            while data := client.recv(CHUNK):
                if data[:8].split(b" ")[0] in (b"GET", b"POST", b"HEAD", b"PUT"):
                    request.clear()
                request.extend(data)
                server.sendall(data)
        except OSError:
            pass
        finally:
            try:
                server.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _replies(self, server: socket.socket, client: socket.socket, request: bytearray) -> None:
        try:
            while data := server.recv(CHUNK):
                sent = bytes(request)
                ok = self.marker in sent and data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
                if self.drop and data.startswith(b"HTTP/"):
                    with self._lock:
                        self.drop -= 1
                        self.dropped += [sent] if ok else []
                    return  # the reply is lost with the connection
                if self.delay and data.startswith(b"HTTP/"):
                    with self._lock:
                        self.delayed += [sent] if ok else []
                    time.sleep(self.delay)
                client.sendall(data)
        except OSError:
            return
