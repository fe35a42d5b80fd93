"""How Socket.IO bytes reach websockets under gevent: framed once, written at once.

python-engineio gives every packet to a per-socket queue; a writer greenlet per
socket wakes, re-frames the message with wsproto and writes it.  For a call to
200 displays that was about 70 µs of server CPU per display (a queue hand-off,
two greenlet switches, two timeouts, a wsproto frame, a UTF-8 encoding and the
write), and the last display waited for all of them.  This module keeps
engine.io's protocol, queues and bookkeeping and changes only the last step:

* :class:`FastWebSocket` is engine.io's ``websocket`` class in gevent mode:
  simple-websocket (wsproto) still does the handshake and decodes what the
  client sends, but

  - per-message deflate is not offered.  Browsers ask for it; it would give
    every display its own zlib compressor (about 256 KB each, kept for the
    life of the connection) and a compression per display per message, to
    save a few hundred bytes on a LAN.
  - messages are framed here (RFC 6455 5.2: unmasked, one frame): a
    broadcast's packet encodes to the same string object for every socket,
    so its frame is built once (:func:`frame`), and written completely
    (``sendall``) under a per-connection lock.
  - the connection's own greenlet reads, instead of a reader greenlet of
    its own: one greenlet (about 8 KB) less per display.
  - closing from our side also stops the reading, so that a display that
    vanished (a TV unplugged) leaves no greenlet waiting for it.
  - engine.io's ping (every 20 s) is on a timer, not on a greenlet that
    sleeps in between: one greenlet less again.

* :func:`install` wraps the engine.io server's ``send_packet``: a packet for a
  websocket that has nothing queued and nothing being written is written at
  once from the sending greenlet, with one non-blocking ``write``.  Anything
  else (polling clients, an upgrade in progress, a socket with packets still
  queued or being written, a full socket buffer) takes engine.io's queue as
  before, so that the order of a socket's packets never changes.  Pings
  always take the queue: engine.io's writer closes a connection whose queue
  stayed empty for the ping interval and timeout.  A write that
  only partly fits finishes in a greenlet that holds the connection's lock,
  and the socket's next packets wait behind it.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import simple_websocket

log = logging.getLogger("antre.push")

#: the engine.io sid -> its open websocket (this process)
_open: dict[str, FastWebSocket] = {}
_last: tuple[Any, bytes] | None = None
#: seconds a closing websocket waits for the client's half of the closing handshake
CLOSE_WAIT = 2.0


def frame(message: str | bytes) -> bytes:
    """One unmasked, final websocket frame: text for ``str``, binary for ``bytes``.

    The frame of the last message is kept: every socket of a broadcast is
    handed the very same string (engine.io caches a packet's encoding).
    """
    global _last
    last = _last
    if last is not None and last[0] is message:
        return last[1]
    if isinstance(message, str):
        payload, first = message.encode(), 0x81
    else:
        payload, first = bytes(message), 0x82
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    data = header + payload
    _last = (message, data)
    return data


class _Server(simple_websocket.Server):
    """simple-websocket's server side, without per-message deflate and without a reader greenlet.

    The connection's own greenlet (the one engine.io waits in) reads: a
    display then costs three greenlets instead of four (each holds about
    8 KB: its saved stack and its own Python frame stack).
    """

    def handshake(self) -> None:
        environ = self.environ
        # wsproto accepts the extensions the client offers: offer none.
        self.environ = {k: v for k, v in environ.items() if k != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}
        try:
            super().handshake()
        finally:
            self.environ = environ


class _NoThread:
    """Stands in for simple-websocket's reader thread (see :meth:`FastWebSocket.wait`)."""

    name = "(simple_websocket.Base._thread)"

    def __init__(self, target: Callable[[], None]) -> None:
        pass

    def start(self) -> None:
        pass


def _websocket_base() -> type:
    from engineio.async_drivers.gevent import WebSocketWSGI

    return WebSocketWSGI


class FastWebSocket(_websocket_base()):  # type: ignore[misc]
    """engine.io's websocket for gevent, with the framing, reading and direct writes above."""

    def __init__(self, handler: Callable[[Any], Any], server: Any) -> None:
        import gevent.lock

        super().__init__(handler, server)
        self.server_args["thread_class"] = _NoThread
        self.sid: str | None = getattr(getattr(handler, "__self__", None), "sid", None)
        self.lock = gevent.lock.Semaphore()
        self.fd = -1  # the socket's descriptor when it may be written directly (non-blocking)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.ws = _Server(environ, **self.server_args)
        try:
            fd = self.ws.sock.fileno()
            if not os.get_blocking(fd):
                self.fd = fd
        except (AttributeError, OSError):
            self.fd = -1
        if self.sid is not None:
            _open[self.sid] = self
        try:
            ret = self.app(self)
        finally:
            self.fd = -1
            if self.sid is not None and _open.get(self.sid) is self:
                del _open[self.sid]
            self.ws.connected = False
            self.ws.sock.close()
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        if self.ws.mode == "werkzeug":
            raise ConnectionError()
        return ret

    def wait(self) -> str | bytes | None:
        """The next message from the client; None once the connection is closed."""
        ws = self.ws
        while not ws.input_buffer:
            if not ws.connected:
                self._drain()
                return None
            try:
                data = ws.sock.recv(ws.receive_bytes)
            except OSError:
                data = b""
            if not data:
                ws.connected = False
                self._drain()
                return None
            ws.ws.receive_data(data)
            with self.lock:  # may answer (a pong, the close handshake): never inside another frame
                ws.connected = ws._handle_events()
        return ws.input_buffer.pop(0)

    def _drain(self) -> None:
        """The websocket is over: finish the closing handshake (read the client's close frame, dropping
        anything before it; 2 s at most), then hang up, as the server should (RFC 6455 7.1.1).  The web
        server reads this connection again afterwards: it must find the end, not frames to take for a
        request."""
        import gevent
        from wsproto.connection import ConnectionState
        from wsproto.utilities import ProtocolError

        conn, sock = self.ws.ws, self.ws.sock
        try:
            with gevent.Timeout(CLOSE_WAIT, False):
                while conn.state is not ConnectionState.CLOSED:
                    data = sock.recv(4096)
                    if not data:
                        break
                    conn.receive_data(data)
                    for _event in conn.events():
                        pass
            # Clients often send a last frame as they go (python-socketio answers our close frame
            # although it sent its own): take it now rather than leave it to the web server.
            with gevent.Timeout(0.2, False):
                while sock.recv(4096):
                    pass
        except (OSError, ProtocolError):
            pass
        _hang_up(sock)

    def send(self, message: str | bytes) -> None:
        """engine.io's writer: the whole frame, after any write still in progress."""
        data = frame(message)
        with self.lock:
            if not self.ws.connected:
                raise OSError("websocket closed")
            self.ws.sock.sendall(data)

    def offer(self, data: bytes) -> bool:
        """Write ``data`` now if nothing is being written; False: it must be queued."""
        if self.fd < 0 or self.lock.locked() or not self.ws.connected:
            return False
        try:
            sent = os.write(self.fd, data)
        except BlockingIOError:
            return False
        except OSError:
            return False  # engine.io's writer meets the error and closes the connection
        if sent < len(data):
            import gevent

            self.lock.acquire()
            gevent.spawn(self._finish, memoryview(data)[sent:])
        return True

    def _finish(self, rest: memoryview) -> None:
        try:
            self.ws.sock.sendall(rest)
        except OSError:
            log.debug("websocket %s: write failed", self.sid, exc_info=True)
        finally:
            self.lock.release()

    def close(self) -> None:
        """Our side ends the connection: the close frame (after the frame being written, if any).  The
        greenlet waiting in :meth:`wait` then reads the client's answer; if the client is gone (a TV
        unplugged) the connection is hung up after 2 s, so that nothing stays waiting for it."""
        if not self.ws.connected:
            return
        if self.lock.acquire(timeout=1.0):
            try:
                super().close()
            except OSError:
                pass
            finally:
                self.lock.release()
        self.ws.connected = False
        import gevent

        timer = gevent.get_hub().loop.timer(CLOSE_WAIT, ref=False)
        timer.start(_hang_up, self.ws.sock, timer)


def _hang_up(sock: Any, timer: Any = None) -> None:
    if timer is not None:
        timer.close()
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def ping_later(conn: Any) -> None:
    """What engine.io's ``Socket._send_ping`` does (after the connection and each pong), on a timer
    instead of in a greenlet that sleeps through the ping interval: one greenlet (about 8 KB) less
    per display."""
    import gevent

    timer = gevent.get_hub().loop.timer(conn.server.ping_interval, ref=False)
    timer.start(_ping_due, conn, timer)


def _ping_due(conn: Any, timer: Any) -> None:
    import gevent

    timer.close()
    gevent.spawn_raw(_ping, conn)  # not in the hub: sending may take the queue


def _ping(conn: Any) -> None:
    from engineio import packet

    if not conn.closing and not conn.closed:
        conn.last_ping = time.time()
        # Through the socket's queue, as engine.io does, never written directly: engine.io's writer
        # greenlet ends the connection when its queue stays empty for ping interval + timeout (40 s).
        conn.send(packet.Packet(packet.PING))


def install(eio: Any) -> None:
    """Use :class:`FastWebSocket` and direct writes in this engine.io server (gevent mode only)."""
    if eio.async_mode != "gevent" or getattr(eio, "_antre_fast_writes", False):
        return
    eio._async = {**eio._async, "websocket": FastWebSocket}  # a copy: the driver's dict is shared
    from gevent.monkey import get_original

    queued_send = eio.send_packet
    sockets = eio.sockets
    thread_id = get_original("_thread", "get_ident")
    loop_thread = thread_id()  # direct writes only from the event loop's thread, as the sockets' own

    def send_packet(sid: str, pkt: Any) -> None:
        ws = _open.get(sid)
        if ws is not None and thread_id() == loop_thread:
            conn = sockets.get(sid)
            if conn is not None and conn.upgraded and not conn.upgrading and not conn.closing \
                    and not conn.closed and not conn.queue.qsize():
                if not conn.check_ping_timeout():
                    return  # as engine.io: the socket is being closed
                if ws.offer(frame(pkt.encode())):
                    return
        queued_send(sid, pkt)

    eio.send_packet = send_packet

    from engineio.socket import Socket

    spawn_task = eio.start_background_task

    def start_background_task(target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if getattr(target, "__func__", None) is Socket._send_ping and not args and not kwargs:
            ping_later(target.__self__)  # its only caller, schedule_ping, ignores what this returns
            return None
        return spawn_task(target, *args, **kwargs)

    eio.start_background_task = start_background_task
    eio._antre_fast_writes = True
