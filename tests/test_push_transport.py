"""The websocket transport of the fan-out (web/push_transport.py).

Frames are checked with wsproto's own decoder; the direct writes with real
sockets (a socket pair too small for one frame) and with real server
processes: a client that asks for per-message deflate as browsers do, a
client that starts with long-polling and upgrades, and calls in order.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Ping, RejectConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from tests.support.live import LiveServer
from web.push_transport import FastWebSocket, frame


def decode(data: bytes) -> list[tuple[Opcode, bytes | str, bool]]:
    protocol = FrameProtocol(client=True, extensions=[])
    protocol.receive_bytes(data)
    return [(f.opcode, f.payload, f.message_finished) for f in protocol.received_frames()]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_frames_decode_as_one_final_unmasked_frame(size):
    text = ("é" if size % 2 else "a") * size  # multi-byte text too: the length is of the UTF-8 bytes
    [(opcode, payload, finished)] = decode(frame(text))
    assert (opcode, payload, finished) == (Opcode.TEXT, text, True)
    raw = bytes(range(256)) * (size // 256) + bytes(size % 256)
    [(opcode, payload, finished)] = decode(frame(raw))
    assert (opcode, bytes(payload), finished) == (Opcode.BINARY, raw, True)


def test_a_broadcast_frames_its_message_once():
    message = '42["ticket:called",{}]'
    assert frame(message) is frame(message)
    assert frame(message) is not frame('42["other",{}]')


class _Ws:
    """What FastWebSocket needs of simple-websocket's connection: the socket and whether it is open."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.connected = True


def test_a_write_that_does_not_fit_finishes_before_the_next_one():
    import gevent
    from gevent import socket as gsocket

    ours, theirs = gsocket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ws = FastWebSocket(lambda _ws: None, None)
    ws.ws, ws.fd = _Ws(ours), ours.fileno()
    big = frame("x" * 1_000_000)
    assert ws.offer(big)  # partly written now, the rest by a greenlet that holds the lock
    assert ws.lock.locked()
    assert not ws.offer(frame("too early"))  # must be queued: it would land inside the big frame
    after = gevent.spawn(ws.send, "after")  # engine.io's writer: waits for the rest
    received = bytearray()

    def read() -> None:
        while len(received) < len(big) + len(frame("after")):
            chunk = theirs.recv(65536)
            assert chunk
            received.extend(chunk)

    reader = gevent.spawn(read)
    gevent.joinall([after, reader], timeout=20, raise_error=True)
    assert [(op, len(p)) for op, p, _ in decode(bytes(received))] == [(Opcode.TEXT, 1_000_000), (Opcode.TEXT, 5)]
    assert not ws.lock.locked()
    assert ws.offer(frame("now"))  # idle again: written at once
    assert theirs.recv(100) == frame("now")
    ours.close()
    theirs.close()


def test_the_connection_greenlet_reads_and_our_close_ends_it_even_if_the_client_is_gone():
    """The whole class on a socket pair: handshake (deflate declined), a message read by the greenlet
    that waits in ``wait()``, then our close: a close frame, and ``wait()`` returns at once although
    the client never answers the close (a TV unplugged)."""
    import gevent
    from gevent import socket as gsocket

    server_end, client_end = gsocket.socketpair()
    environ = {
        "SERVER_SOFTWARE": "gevent/26", "wsgi.input": _Input(server_end),
        "HTTP_HOST": "antre", "HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==", "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate; client_max_window_bits",
    }
    received: list[Any] = []

    def handler(ws: FastWebSocket) -> list[Any]:
        while (message := ws.wait()) is not None:
            received.append(message)
        received.append(None)
        return []

    fws = FastWebSocket(handler, None)
    connection = gevent.spawn(fws, environ, None)
    client = FrameProtocol(client=True, extensions=[])
    head = b""
    while b"\r\n\r\n" not in head:
        head += client_end.recv(4096)
    assert head.startswith(b"HTTP/1.1 101")
    assert b"sec-websocket-extensions" not in head.lower()
    client_end.sendall(client.send_data("2probe", fin=True))
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert received == ["2probe"]
    assert fws.offer(frame("3probe"))
    fws.close()  # the client will never answer the close frame
    connection.join(timeout=5)
    assert connection.ready() and received == ["2probe", None]
    data = b""
    while chunk := client_end.recv(4096):
        data += chunk
    client.receive_bytes(data)
    assert [(f.opcode, f.payload) for f in client.received_frames()] == [
        (Opcode.TEXT, "3probe"), (Opcode.CLOSE, (1000, ""))]
    server_end.close()
    client_end.close()


def test_pings_come_from_a_timer():
    import gevent
    from engineio import packet

    from web.push_transport import ping_later

    sent: list[tuple[str, int]] = []

    class Server:
        ping_interval = 0.05

    class Conn:
        sid, server, last_ping, closing, closed = "abc", Server(), None, False, False

        def send(self, pkt: Any) -> None:  # the queue: engine.io's writer must see every ping
            sent.append((self.sid, pkt.packet_type))

    conn = Conn()
    ping_later(conn)
    assert sent == []
    gevent.sleep(0.2)
    assert sent == [("abc", packet.PING)] and conn.last_ping is not None
    ping_later(conn)
    conn.closed = True  # gone before its next ping: nothing is sent
    gevent.sleep(0.2)
    assert sent == [("abc", packet.PING)]


class _Input:
    """gevent's ``wsgi.input`` as simple-websocket finds the socket in it."""

    def __init__(self, sock: Any) -> None:
        self.raw = type("Raw", (), {"_sock": sock})()


# ------------------------------------------------------------ a real server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path_factory.mktemp("transport")).start()
    yield s
    s.stop()


class BrowserLikeSocket:
    """Socket.IO over a websocket that offers per-message deflate, as Chromium does (wsproto client)."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"127.0.0.1:{server.port}",
                                               target="/socket.io/?EIO=4&transport=websocket",
                                               extensions=[PerMessageDeflate()])))
        self.pending: list[Any] = []
        self.accepted = self._event((AcceptConnection, RejectConnection))
        assert isinstance(self.accepted, AcceptConnection), self.accepted
        assert self.text().startswith("0")  # engine.io open
        self.send("40" + json.dumps({"token": token}))
        self.early: list[str] = []  # events sent by the connect handler come before its "40" (python-socketio)
        while not (message := self.text()).startswith("40"):
            self.early.append(message)

    def _event(self, kinds: Any) -> Any:
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, Ping):
                    self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, kinds):
                    return event
            data = self.sock.recv(65536)
            assert data, "closed by the server"
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())

    def text(self) -> str:
        parts = []
        while True:
            event = self._event(Message)
            assert isinstance(event, TextMessage)
            parts.append(event.data)
            if event.message_finished:
                message = "".join(parts)
                if message == "2":  # engine.io ping
                    self.send("3")
                    parts = []
                    continue
                return message

    def event(self, name: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.early.pop(0) if self.early else self.text()
            if message.startswith("42"):
                event, *data = json.loads(message[2:])
                if event == name:
                    return data[0] if data else None
        raise AssertionError(f"no {name} within {timeout} s")

    def send(self, message: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=message)))

    def close(self) -> None:
        self.sock.close()


def _issue(server: LiveServer, kiosk: str, code: str = "PBB") -> dict[str, Any]:
    services = server.api("GET", "/api/v1/services", kiosk).json()
    service = next(s["id"] for s in services if s["code"] == code)
    r = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": service})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_browser_gets_no_compression_and_every_event(server):
    display = BrowserLikeSocket(server, server.token("display"))
    try:
        assert display.accepted.extensions == []  # per-message deflate declined
        state = display.event("queue:state")  # a long frame (16-bit length)
        assert len(state["counters"]) >= 25
        kiosk, counter = server.token("kiosk"), server.token("counter")
        ticket = _issue(server, kiosk)
        assert server.api("POST", "/api/v1/counters/13/call-next", counter).status_code == 200
        called = display.event("ticket:called")
        assert called["ticket"]["id"] == ticket["id"]
        assert called["counter"] == {"id": 13, "name": called["counter"]["name"]}
    finally:
        display.close()


def test_calls_reach_websocket_and_upgraded_polling_clients_in_order(server):
    import socketio

    kiosk, counter, token = server.token("kiosk"), server.token("counter"), server.token("display")
    tickets = [_issue(server, kiosk)["id"] for _ in range(8)]
    clients, seen = [], []
    for transports in (["websocket"], ["polling", "websocket"], ["websocket"]):
        got: list[int] = []
        sio = socketio.Client(reconnection=False)
        sio.on("ticket:called", lambda data, got=got: got.append(data["ticket"]["id"]))
        sio.connect(server.url, auth={"token": token}, transports=transports, wait_timeout=10)
        clients.append(sio)
        seen.append(got)
    try:
        deadline = time.monotonic() + 10
        while clients[1].transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert clients[1].transport() == "websocket"
        called = []
        for _ in tickets:
            r = server.api("POST", "/api/v1/counters/13/call-next", counter)
            assert r.status_code == 200, r.text
            called.append(r.json()["id"])
        assert sorted(called) == sorted(tickets)
        deadline = time.monotonic() + 10
        while any(len(got) < len(called) for got in seen) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == [called] * 3
    finally:
        for sio in clients:
            sio.disconnect()



PING_APP = '''
import sys
from gevent import monkey
monkey.patch_all()
sys.path.insert(0, sys.argv[2])
import socketio
from gevent import pywsgi, spawn, sleep
from web.push_transport import install

sio = socketio.Server(async_mode="gevent", ping_interval=0.2, ping_timeout=0.2)
install(sio.eio)


def tick():
    n = 0
    while True:
        sleep(0.1)
        n += 1
        sio.emit("tick", n)


spawn(tick)
server = pywsgi.WSGIServer(("127.0.0.1", 0), socketio.WSGIApp(sio), log=None)
server.start()
print(server.server_port, flush=True)
server.serve_forever()
'''


def test_connections_outlive_many_ping_cycles_while_every_event_is_written_directly(tmp_path):
    """engine.io's writer ends a connection whose queue stayed empty for ping interval + timeout:
    with every event written directly, only the pings (through the queue) keep it open.  A real
    gevent server with a 0.2 s ping interval, three clients, seven ping cycles."""
    import subprocess
    import sys

    import socketio

    from tests.support.live import ROOT

    script = tmp_path / "ping_app.py"
    script.write_text(PING_APP)
    proc = subprocess.Popen([sys.executable, str(script), "x", str(ROOT)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        clients, ticks = [], []
        for transports in (["websocket"], ["polling", "websocket"], ["websocket"]):
            got: list[int] = []
            sio = socketio.Client(reconnection=False)
            sio.on("tick", got.append)
            sio.connect(f"http://127.0.0.1:{port}", transports=transports, wait_timeout=10)
            clients.append(sio)
            ticks.append(got)
        time.sleep(3)  # seven ping cycles of 0.4 s
        assert [sio.connected for sio in clients] == [True] * 3
        for got in ticks:
            assert len(got) > 20 and got == list(range(got[0], got[0] + len(got)))  # all, in order
        for sio in clients:
            sio.disconnect()
    finally:
        proc.kill()
        proc.wait(5)
