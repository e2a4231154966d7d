"""A TCP proxy in front of DynamoDB Local that can stall, as a hung DynamoDB would.

It forwards bytes both ways until told to stall; from then on it forwards
nothing (connections stay open, answers never come), so the client's read
timeouts and retries are what ends a request. ``stall_at`` stalls at the
n-th request of one DynamoDB operation (read from its ``X-Amz-Target``
header), before any of that request reaches DynamoDB: the earlier requests
have been applied, that one and the later ones have not.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlparse

TARGET = re.compile(rb"X-Amz-Target: DynamoDB_20120810\.(\w+)", re.IGNORECASE)


class StallProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stalled = threading.Event()
        self.stalled_at: float | None = None  # time.monotonic() of the stall
        self.seen: Counter[str] = Counter()
        self._stall_at: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.stalled_at = time.monotonic()
        self.stalled.set()

    def stall_at(self, operation: str, nth: int) -> None:
        """Stall when the ``nth`` request of ``operation`` (e.g. TransactWriteItems) arrives."""
        self._stall_at = (operation, nth)

    def resume(self) -> None:
        """Forward again; connections held while stalled are dropped (their requests never arrived)."""
        with self._lock:
            held, self._sockets = self._sockets, []
        for s in held:
            s.close()
        self._stall_at = None
        self.stalled_at = None
        self.stalled.clear()

    def close(self) -> None:
        self._closing.set()
        self.resume()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _counts_stall(self, data: bytes) -> bool:
        """Count the requests in ``data``; True when one of them is where to stall."""
        with self._lock:
            for match in TARGET.finditer(data):
                operation = match.group(1).decode()
                self.seen[operation] += 1
                if self._stall_at and self._stall_at == (operation, self.seen[operation]):
                    self.stall()
        return self.stalled.is_set()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while not self._closing.is_set():
                if self.stalled.is_set():
                    self._closing.wait(0.05)
                    if client.fileno() < 0 or server.fileno() < 0:
                        return
                    continue
                ready, _, _ = select.select([client, server], [], [], 0.05)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client and self._counts_stall(data):
                        break  # held: this request never reaches DynamoDB
                    peers[source].sendall(data)
        except (OSError, ValueError):  # ValueError: resume() closed the socket under select()
            return
        finally:
            client.close()
            server.close()
