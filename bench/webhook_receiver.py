"""A real webhook receiver on loopback, for the tests and the benchmark.

A threaded HTTP/1.1 server (keep-alive, TCP_NODELAY) that records every POST
and can misbehave on purpose: answer an error status, hang without answering,
or disappear altogether (listening socket *and* open connections closed) and
come back later on the same port.

    receiver = Receiver(secret="...").start()
    receiver.plan = lambda event_id, attempt: 503 if attempt == 1 else 200
    ...
    receiver.stop()      # disappears
    receiver.start()     # back on the same port
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = "hang"  # a plan answer: keep the request open without replying


@dataclass
class Delivery:
    event_id: int
    status: int | str
    body: bytes
    headers: dict[str, str]
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-antre-signature", ""))


@dataclass
class Receiver:
    secret: str = "receiver-secret-0123456789"
    port: int = 0
    #: (event id, attempt number for that id) -> HTTP status, or HANG
    plan: Callable[[int, int], int | str] = field(default=lambda _event_id, _attempt: 200)
    hang_seconds: float = 30.0
    deliveries: list[Delivery] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _connections: set[socket.socket] = field(default_factory=set)
    _attempts: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/antre-hook"

    # --- life ------------------------------------------------------------------

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    event_id = int(self.headers.get("X-Antre-Event-Id") or 0)
                except ValueError:
                    event_id = 0
                with receiver._lock:
                    attempt = receiver._attempts[event_id] = receiver._attempts.get(event_id, 0) + 1
                action = receiver.plan(event_id, attempt)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.deliveries.append(Delivery(event_id, action, body, headers, time.monotonic()))
                if action == HANG:
                    receiver._release.wait(receiver.hang_seconds)
                    self.close_connection = True
                    return
                reply = b'{"ok":true}' if 200 <= int(action) < 300 else b'{"error":"planned"}'
                self.send_response(int(action))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: Any) -> None:
                pass

        self._release.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name=f"receiver-{self.port}").start()
        return self

    def stop(self) -> None:
        """Disappear: stop listening and cut every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._release.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- reading -----------------------------------------------------------------

    def accepted(self) -> list[Delivery]:
        """Deliveries answered 2xx, in arrival order."""
        with self._lock:
            return [d for d in self.deliveries if isinstance(d.status, int) and 200 <= d.status < 300]

    def unique_accepted_ids(self) -> list[int]:
        """Accepted event ids in arrival order, duplicates dropped (what a receiver keeps)."""
        seen: set[int] = set()
        out = []
        for d in self.accepted():
            if d.event_id not in seen:
                seen.add(d.event_id)
                out.append(d.event_id)
        return out

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"receiver: no {what} within {timeout} s "
                             f"({len(self.deliveries)} deliveries, {len(self.accepted())} accepted)")

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
