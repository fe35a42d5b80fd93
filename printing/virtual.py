"""A protocol-level emulation of an Epson-style ESC/POS thermal printer.

Like OctoPrint's virtual printer it speaks the real protocol and can be told to
misbehave.  Bytes written to it are split into commands (by
:mod:`printing.decode`):

* real-time status queries (``DLE EOT 1/2/3/4``, ``GS r 1/2``) are answered at
  once with the bit patterns a TM-T88 sends, whatever state it is in (unless
  it has been told to go silent);
* everything else goes to the print engine, which cuts the stream into
  tickets at each ``GS V``.  While the printer is out of paper or offline
  (cover open) print data is held in its buffer, as a real printer does, and
  printed when the fault is cleared;
* a *slow* printer takes ``delay`` seconds per ticket, and a write returns only
  once its tickets are out (a printer whose receive buffer is full);
* a *disconnected* printer refuses every write and read (cable pulled).

:func:`get_virtual_printer` keeps a module-level registry, so every
``open_printer("virtual:NAME")`` reaches the same emulated device and a test or
an admin page can inject faults into the printer the server is using.
All methods are thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from printing.decode import Cut, Decoded, Decoder, Event, Feed, QRCode, StatusQuery, TextLine

__all__ = [
    "FAULTS",
    "PrintedTicket",
    "VirtualPrinter",
    "get_virtual_printer",
    "remove_virtual_printer",
    "virtual_printer_names",
]

FAULTS = ("paper_out", "paper_low", "offline", "slow", "silent", "disconnected", "none")
"""Fault names for :meth:`VirtualPrinter.inject` and ``virtual:?fault=``."""
DEFAULT_SLOW_DELAY = 2.0


@dataclass(frozen=True)
class PrintedTicket:
    """One ticket that came out of the printer (everything up to and including a cut)."""

    data: bytes
    decoded: Decoded
    printed_at: float = field(compare=False)  # time.time() when it came out


@dataclass
class _Pending:
    ticket: PrintedTicket
    ready_at: float  # time.monotonic()


class VirtualPrinter:
    """An emulated thermal printer; see the module docstring."""

    def __init__(self, name: str = "default", *, hold_limit: int = 1 << 20) -> None:
        self.name = name
        self.hold_limit = hold_limit
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._reset_state()

    def _reset_state(self) -> None:
        self._paper = "ok"  # "ok" | "low" | "out"
        self._online = True
        self._silent = False
        self._delay = 0.0
        self._disconnected = False
        self._rx = Decoder(strict=False)  # splits the incoming stream into commands
        self._engine = Decoder(strict=False)  # interprets print data in order
        self._queued: deque[bytes] = deque()  # print commands received, not yet printed
        self._queued_bytes = 0
        self._paper_left: float | None = None  # lines left on the roll (None: endless)
        self._near_end = 0
        self._replies = bytearray()
        self._ticket_raw = bytearray()
        self._ticket_events: list[Event] = []
        self._ticket_commands: list[str] = []
        self._pending: list[_Pending] = []
        self._busy_until = 0.0
        self.bytes_received = 0
        self.dropped_bytes = 0
        self.status_queries = 0

    def __repr__(self) -> str:
        return f"<VirtualPrinter {self.name!r} {self.faults}>"

    # ------------------------------------------------------------ fault control
    @property
    def faults(self) -> dict[str, object]:
        with self._lock:
            return {
                "paper": self._paper,
                "online": self._online,
                "silent": self._silent,
                "delay": self._delay,
                "disconnected": self._disconnected,
            }

    def set_paper(self, state: str) -> None:
        """``"ok"``, ``"low"`` (near-end sensor) or ``"out"``; an endless roll from now on."""
        if state not in ("ok", "low", "out"):
            raise ValueError(f"paper state must be ok, low or out, not {state!r}")
        with self._cond:
            self._paper = state
            self._paper_left = None
            self._resume()

    def set_paper_remaining(self, lines: int, near_end: int = 0) -> None:
        """Load a roll with ``lines`` lines of paper; the near-end sensor trips at ``near_end``.

        Printing uses paper (a text line its height, a feed its lines, a QR
        code about 8 lines); when the roll ends the printer stops mid-ticket
        and holds the rest of the data, as a real one does.
        """
        if lines < 0 or near_end < 0:
            raise ValueError("lines and near_end must be >= 0")
        with self._cond:
            self._paper_left = float(lines)
            self._near_end = near_end
            self._paper = "out" if lines == 0 else "low" if lines <= near_end else "ok"
            self._resume()

    def set_online(self, online: bool) -> None:
        """Offline models an open cover: status says so, print data is held."""
        with self._cond:
            self._online = online
            self._resume()

    def set_silent(self, silent: bool) -> None:
        """A silent printer never answers a status query."""
        with self._cond:
            self._silent = silent

    def set_delay(self, seconds: float) -> None:
        """Seconds each ticket takes to print (0 = instant)."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        with self._cond:
            self._delay = float(seconds)

    def set_disconnected(self, disconnected: bool) -> None:
        """A disconnected printer raises ConnectionError on every write and read."""
        with self._cond:
            self._disconnected = disconnected
            self._cond.notify_all()

    def inject(self, fault: str, delay: float | None = None) -> None:
        """Inject a fault by name (one of :data:`FAULTS`; ``"none"`` clears all)."""
        if fault == "paper_out":
            self.set_paper("out")
        elif fault == "paper_low":
            self.set_paper("low")
        elif fault == "offline":
            self.set_online(False)
        elif fault == "slow":
            self.set_delay(DEFAULT_SLOW_DELAY if delay is None else delay)
        elif fault == "silent":
            self.set_silent(True)
        elif fault == "disconnected":
            self.set_disconnected(True)
        elif fault == "none":
            self.clear_faults()
        else:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        if delay is not None and fault != "slow":
            self.set_delay(delay)

    def clear_faults(self) -> None:
        """Paper in, cover closed, answering, fast, connected; held data prints."""
        with self._cond:
            self._paper = "ok"
            self._paper_left = None
            self._online = True
            self._silent = False
            self._delay = 0.0
            self._disconnected = False
            self._resume()

    def reset(self) -> None:
        """Back to a new printer: no faults, no tickets, empty buffers."""
        with self._cond:
            self._reset_state()
            self._cond.notify_all()

    # ----------------------------------------------------------------- status
    def status_byte(self, command: str, n: int) -> int | None:
        """The reply to a status query in the current state (None: not answered)."""
        with self._lock:
            out = self._paper == "out"
            low = self._paper != "ok"
            offline = out or not self._online
            if command == "DLE EOT":
                if n == 1:  # printer status: bit 3 offline
                    return 0x12 | (0x08 if offline else 0)
                if n == 2:  # offline cause: bit 2 cover open, bit 5 stopped by paper end
                    return 0x12 | (0x04 if not self._online else 0) | (0x20 if out else 0)
                if n == 3:  # error cause: none
                    return 0x12
                if n == 4:  # roll paper sensor: bits 2-3 near end, bits 5-6 end
                    return 0x12 | (0x0C if low else 0) | (0x60 if out else 0)
                return None
            if n in (1, 49):  # GS r 1: bits 0-1 near end, bits 2-3 end
                return (0x03 if low else 0) | (0x0C if out else 0)
            return 0x00  # GS r 2 (drawer) and 4 (ink): nothing to report

    @property
    def printing_blocked(self) -> bool:
        """True while print data is held (paper out or offline)."""
        with self._lock:
            return self._paper == "out" or not self._online

    # --------------------------------------------------------------- protocol
    def write(self, data: bytes, timeout: float | None = None) -> None:
        """Receive bytes from the host.

        Returns when the tickets completed by ``data`` have printed; raises
        :class:`TimeoutError` if that takes longer than ``timeout`` (the
        tickets still come out later) and :class:`ConnectionError` when
        disconnected.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._disconnected:
                raise ConnectionError(f"virtual printer {self.name!r} is disconnected")
            self.bytes_received += len(data)
            for cmd in self._rx.feed_commands(data):
                queries = [e for e in cmd.events if isinstance(e, StatusQuery)]
                if queries:
                    for query in queries:
                        self._answer(query)
                    continue
                if self._queued_bytes + len(cmd.raw) > self.hold_limit:
                    self.dropped_bytes += len(cmd.raw)
                    continue
                self._queued.append(cmd.raw)
                self._queued_bytes += len(cmd.raw)
            ready = self._resume()
        if ready is None:
            return
        while True:
            now = time.monotonic()
            if now >= ready:
                return
            if deadline is not None and now >= deadline:
                raise TimeoutError(f"virtual printer {self.name!r} still printing after {timeout} s")
            time.sleep(min(ready, deadline if deadline is not None else ready) - now)

    def read(self, size: int = 64, timeout: float = 0.0) -> bytes:
        """Status replies waiting to be read; waits up to ``timeout`` for the first byte."""
        end = time.monotonic() + timeout
        with self._cond:
            while not self._replies:
                if self._disconnected:
                    raise ConnectionError(f"virtual printer {self.name!r} is disconnected")
                left = end - time.monotonic()
                if left <= 0:
                    return b""
                self._cond.wait(left)
            if self._disconnected:
                raise ConnectionError(f"virtual printer {self.name!r} is disconnected")
            out = bytes(self._replies[:size])
            del self._replies[:size]
            return out

    def drain_replies(self) -> bytes:
        """Take every reply waiting (used by a host before a fresh query)."""
        with self._cond:
            out = bytes(self._replies)
            self._replies.clear()
            return out

    def _answer(self, query: StatusQuery) -> None:
        self.status_queries += 1
        if self._silent:
            return
        value = self.status_byte(query.command, query.n)
        if value is not None:
            self._replies.append(value)
            self._cond.notify_all()

    def _resume(self) -> float | None:
        """Print queued data until done or blocked; the ready time of the last ticket completed."""
        ready = None
        while self._queued and self._paper != "out" and self._online:
            raw = self._queued.popleft()
            self._queued_bytes -= len(raw)
            for cmd in self._engine.feed_commands(raw):
                self._ticket_raw += cmd.raw
                self._ticket_commands.append(cmd.name)
                self._ticket_events.extend(cmd.events)
                self._use_paper(cmd.events)
                if any(isinstance(e, Cut) for e in cmd.events):
                    ready = self._complete_ticket()
        return ready

    def _use_paper(self, events: tuple[Event, ...]) -> None:
        if self._paper_left is None:
            return
        for event in events:
            if isinstance(event, TextLine):
                self._paper_left -= event.height
            elif isinstance(event, Feed):
                self._paper_left -= event.lines + event.dots / 30
            elif isinstance(event, QRCode):
                self._paper_left -= 8
        if self._paper_left <= 0:
            self._paper_left = 0.0
            self._paper = "out"
        elif self._paper_left <= self._near_end:
            self._paper = "low"

    def _complete_ticket(self) -> float:
        now = time.monotonic()
        ready = max(now, self._busy_until) + self._delay
        self._busy_until = ready
        ticket = PrintedTicket(
            data=bytes(self._ticket_raw),
            decoded=Decoded(events=self._ticket_events, commands=self._ticket_commands),
            printed_at=time.time() + (ready - now),
        )
        self._pending.append(_Pending(ticket, ready))
        self._ticket_raw = bytearray()
        self._ticket_events = []
        self._ticket_commands = []
        self._cond.notify_all()
        return ready

    # ---------------------------------------------------------------- results
    @property
    def tickets(self) -> list[PrintedTicket]:
        """Tickets that have come out so far, oldest first."""
        now = time.monotonic()
        with self._lock:
            return [p.ticket for p in self._pending if p.ready_at <= now]

    @property
    def held_bytes(self) -> int:
        """Print data waiting in the buffer (paper out / offline)."""
        with self._lock:
            return self._queued_bytes

    @property
    def pending_text(self) -> str:
        """Text printed after the last cut (still on the roll)."""
        with self._lock:
            return "\n".join(e.text for e in self._ticket_events if isinstance(e, TextLine))

    def wait_for_tickets(self, count: int, timeout: float) -> list[PrintedTicket]:
        """Wait until ``count`` tickets have come out; TimeoutError otherwise."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                done = [p.ticket for p in self._pending if p.ready_at <= now]
                if len(done) >= count:
                    return done
                if now >= end:
                    raise TimeoutError(
                        f"virtual printer {self.name!r}: {len(done)} of {count} tickets after {timeout} s"
                    )
                upcoming = [p.ready_at for p in self._pending if p.ready_at > now]
                wake = min([end, *upcoming]) - now
                self._cond.wait(max(wake, 0.001))


_REGISTRY: dict[str, VirtualPrinter] = {}
_REGISTRY_LOCK = threading.Lock()


def get_virtual_printer(name: str = "default") -> VirtualPrinter:
    """The emulated printer called ``name``, created on first use."""
    with _REGISTRY_LOCK:
        printer = _REGISTRY.get(name)
        if printer is None:
            printer = _REGISTRY[name] = VirtualPrinter(name)
        return printer


def virtual_printer_names() -> list[str]:
    with _REGISTRY_LOCK:
        return sorted(_REGISTRY)


def remove_virtual_printer(name: str) -> None:
    """Forget the printer called ``name`` (handles still holding it keep working)."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(name, None)
