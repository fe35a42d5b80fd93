"""Display clients for the fan-out benchmarks: many Socket.IO clients in one process.

Each worker process runs under gevent (one greenlet per client), connects its
clients with a display token, then records the arrival time
(``time.monotonic()``, one clock for every process of the machine) of every
``ticket:called``.  Optionally each client fetches the call's audio right
away, as a display does, and records when the WAV is complete.

Two kinds of client:

``socketio``  python-socketio's ``Client``, as an integrator would use it.
              It costs about five times the server's CPU per message, so on
              a small machine running server and clients together it, not
              the server, sets the figure.
``raw``       a minimal Socket.IO client (engine.io v4 over a websocket, no
              library): handshake, ``40`` connect with the token, pong the
              pings, read ``42["ticket:called", ...]``.  It measures the
              server's own fan-out with the clients' share of the CPU kept small.

The parent talks to a worker over a pipe:

    parent -> worker: ("stop",)
    worker -> parent: ("ready", connected, failed), then ("done", records)

where ``records`` is ``[(client, ticket_id, received, audio_done or None,
audio_bytes)]``; ``received`` (a shared integer written by this worker only)
counts the calls its clients have received so far, so that the parent can
wait for a call's fan-out to be complete before the next call.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

CALLED_PREFIX = b'42["ticket:called",'


class RawDisplay:
    """A minimal Socket.IO display client on a gevent socket."""

    def __init__(self, url: str, token: str, on_called: Callable[[bytes, float], None]) -> None:
        self.url = urlparse(url)
        self.token = token
        self.on_called = on_called
        self.sock: Any = None
        self.buffer = b""

    def connect(self, timeout: float = 20.0) -> None:
        import gevent
        from gevent import socket

        self.sock = socket.create_connection((self.url.hostname, self.url.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.url.netloc}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        opened = self.read()  # engine.io "0{...}"
        if not opened.startswith(b"0"):
            raise ConnectionError(f"unexpected open packet {opened[:40]!r}")
        self.send(b"40" + json.dumps({"token": self.token}).encode())
        while True:
            message = self.read()
            if message.startswith(b"40"):
                break
            if message.startswith(b"44"):
                raise ConnectionError(message.decode(errors="replace"))
        self.sock.settimeout(None)
        gevent.spawn(self.loop)

    def send(self, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _need(self, count: int) -> None:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk

    def read(self) -> bytes:
        """One whole message (the server sends unmasked, unfragmented text frames)."""
        self._need(2)
        length = self.buffer[1] & 0x7F
        offset = 2
        if length == 126:
            self._need(4)
            length = struct.unpack("!H", self.buffer[2:4])[0]
            offset = 4
        elif length == 127:
            self._need(10)
            length = struct.unpack("!Q", self.buffer[2:10])[0]
            offset = 10
        self._need(offset + length)
        opcode = self.buffer[0] & 0x0F
        message = self.buffer[offset:offset + length]
        self.buffer = self.buffer[offset + length:]
        if opcode == 0x8:
            raise ConnectionError("closed by the server")
        return message

    def loop(self) -> None:
        try:
            while True:
                message = self.read()
                if message.startswith(CALLED_PREFIX):
                    self.on_called(message, time.monotonic())
                elif message == b"2":
                    self.send(b"3")
        except (ConnectionError, OSError):
            return

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def run_worker(url: str, token: str, clients: int, fetch_audio: bool, conn: Any, received: Any,
               kind: str = "socketio") -> None:
    """Entry point of a worker process (multiprocessing, "spawn" context)."""
    from gevent import monkey

    monkey.patch_all()
    import resource

    # The displays stand for screens on other machines: on this one they must not take the
    # server's CPU while it is sending (the server keeps its normal priority).
    os.nice(10)

    import gevent
    import requests

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * clients + 256)), hard))
    records: list[tuple[int, int, float, float | None, int]] = []
    sessions: list[Any] = []
    socks: list[Any] = []

    def fetch(n: int, ticket_id: int, got: float, audio_url: str) -> None:
        r = sessions[n].get(audio_url, timeout=30)
        done = time.monotonic()
        records.append((n, ticket_id, got, done if r.status_code == 200 else None, len(r.content)))
        received.value += 1

    def called(n: int, payload: dict[str, Any], got: float) -> None:
        ticket_id = payload["ticket"]["id"]
        if fetch_audio:
            gevent.spawn(fetch, n, ticket_id, got, payload["announcement"]["audio_url"])
        else:
            records.append((n, ticket_id, got, None, 0))
            received.value += 1

    def make(n: int) -> Any:
        if kind == "raw":
            return RawDisplay(url, token, lambda message, got: called(n, json.loads(message[2:])[1], got))
        import socketio

        sio = socketio.Client(reconnection=False)
        sio.on("ticket:called", lambda payload: called(n, payload, time.monotonic()))
        return sio

    def connect(client: Any) -> None:
        if kind == "raw":
            client.connect()
        else:
            client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)

    failed = 0
    for n in range(clients):
        if fetch_audio:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            sessions.append(session)
        client = make(n)
        for attempt in range(3):
            try:
                connect(client)
                socks.append(client)
                break
            except Exception:  # noqa: BLE001 - retried, then counted
                gevent.sleep(0.2 * (attempt + 1))
        else:
            failed += 1
    conn.send(("ready", len(socks), failed))
    while not conn.poll(0):
        gevent.sleep(0.05)
    conn.recv()
    gevent.sleep(0.2)  # let in-flight audio fetches finish
    conn.send(("done", records))
    for client in socks:
        try:
            client.close() if kind == "raw" else client.eio.disconnect(abort=True)
        except Exception:  # noqa: BLE001 - the parent is finished with us
            pass
