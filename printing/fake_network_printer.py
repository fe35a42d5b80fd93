"""A LAN printer on loopback: raw ESC/POS over TCP, backed by a VirtualPrinter.

It behaves as a network thermal printer on port 9100 does: one connection at
a time (others wait in the listen backlog), print data in, real-time status
replies out on the same socket.  Faults, on top of the virtual printer's own
(paper out, offline, slow, silent):

``refuse``   the port is closed: connections are refused at once;
``hang_up``  the printer drops the connection instead of answering a status
             query (the host sees an empty reply);
``stall``    the printer accepts a connection and never reads from it (hung
             firmware): the host's writes fill the TCP window and block.

Used by the tests and the benchmarks::

    with FakeNetworkPrinter() as lan:
        printer = open_printer(lan.uri, timeout=1)
        printer.print_bytes(ticket)
        lan.printer.wait_for_tickets(1, timeout=2)
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from types import TracebackType

from printing.virtual import FAULTS, VirtualPrinter

__all__ = ["FakeNetworkPrinter"]

NETWORK_FAULTS = ("refuse", "hang_up", "stall")


class FakeNetworkPrinter:
    """See the module docstring.  Start with :meth:`start` or ``with``."""

    def __init__(
        self,
        printer: VirtualPrinter | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: float = 5.0,
    ) -> None:
        self.printer = printer if printer is not None else VirtualPrinter("fake-network")
        self.host = host
        self._requested_port = port
        self.port = 0
        self.idle_timeout = idle_timeout
        self.connections = 0
        self.reads = 0  # chunks received: a status query answered in one round trip is one read
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._retired: list[socket.socket] = []
        self._refusing = False
        self._hang_up = False
        self._stalled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> FakeNetworkPrinter:
        if self._thread is not None:
            raise RuntimeError("already started")
        with self._lock:
            self._listener = self._listen(self._requested_port)
            self.port = self._listener.getsockname()[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"fake-printer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            for sock in [*self._retired, *([self._listener] if self._listener else [])]:
                sock.close()
            self._retired.clear()
            self._listener = None

    def __enter__(self) -> FakeNetworkPrinter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(8)
        return sock

    # --------------------------------------------------------------- faults
    def refuse_connections(self, refuse: bool = True) -> None:
        """Close (or reopen, on the same port) the listening socket; takes effect at once."""
        with self._lock:
            self._refusing = refuse
            if refuse and self._listener is not None:
                # shutdown() stops a listening socket at once and wakes the
                # server thread out of select(); that thread closes it.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._retired.append(self._listener)
                self._listener = None
            elif not refuse and self._listener is None and self._thread is not None:
                self._listener = self._listen(self.port)

    def hang_up_on_status(self, hang_up: bool = True) -> None:
        """Drop the connection instead of answering a status query."""
        with self._lock:
            self._hang_up = hang_up

    def stall(self, stalled: bool = True) -> None:
        """Stop (or resume) reading from connections."""
        with self._lock:
            self._stalled = stalled

    def inject(self, fault: str, delay: float | None = None) -> None:
        """A virtual-printer fault, or ``"refuse"`` / ``"hang_up"``; ``"none"`` clears all."""
        if fault == "refuse":
            self.refuse_connections(True)
        elif fault == "hang_up":
            self.hang_up_on_status(True)
        elif fault == "stall":
            self.stall(True)
        elif fault in FAULTS:
            if fault == "none":
                self.refuse_connections(False)
                self.hang_up_on_status(False)
                self.stall(False)
            self.printer.inject(fault, delay)
        else:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join((*FAULTS, *NETWORK_FAULTS))}")

    def clear_faults(self) -> None:
        self.inject("none")

    # --------------------------------------------------------------- server
    def _serve(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                for sock in self._retired:
                    sock.close()
                self._retired.clear()
                listener = self._listener
            if listener is None:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                continue  # listener shut down by refuse_connections() or stop()
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        self.connections += 1
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(0.05)
        last = time.monotonic()
        with conn:
            while not self._stop.is_set():
                with self._lock:
                    stalled = self._stalled
                if stalled:
                    self._stop.wait(0.02)
                    last = time.monotonic()
                    continue
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    if time.monotonic() - last > self.idle_timeout:
                        return
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self.reads += 1
                last = time.monotonic()
                try:
                    self.printer.write(chunk)
                except ConnectionError:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return  # close with a reset: the "cable" is out
                reply = self.printer.drain_replies()
                if not reply:
                    continue
                with self._lock:
                    hang_up = self._hang_up
                if hang_up:
                    return
                try:
                    conn.sendall(reply)
                except OSError:
                    return
