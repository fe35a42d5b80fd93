"""Printer backends: one URI names a printer, :func:`open_printer` gives a handle.

==========================================  =========================================
``usb:VID:PID[?in_ep=0x82&out_ep=0x01]``    USB (python-escpos ``Usb`` over pyusb)
``tcp://HOST[:PORT]``                       LAN printer, raw ESC/POS (port 9100)
``serial:/dev/ttyUSB0[?baudrate=19200]``    RS-232 / USB-serial (pyserial)
``cups:QUEUE[?host=SERVER]``                a CUPS raw queue (``lp -o raw``)
``file:DIR``                                one ``.bin`` file per job (dev, audit)
``virtual[:NAME][?fault=...&delay=S]``      :mod:`printing.virtual` emulation
==========================================  =========================================

Every call is bounded by the handle's ``timeout``: a status query to a printer
that never answers raises :class:`PrinterTimeout` after ``timeout`` seconds
(python-escpos would wait 60 s, or forever on USB where its default
``timeout=0`` means "no timeout" to libusb).  A printer that cannot be reached
at all is ``OFFLINE`` (``status()``) or raises :class:`PrinterOffline`
(``print_bytes()``).

A handle is not meant to be shared between threads; the print worker uses one
handle per printer from one thread.  Backends still lock internally.

New schemes are added with :func:`register_backend`.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from printing.status import (
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    PrinterTimeout,
    query_status,
)
from printing.virtual import FAULTS, VirtualPrinter, get_virtual_printer

__all__ = [
    "CupsPrinter",
    "FilePrinter",
    "Printer",
    "SerialPrinter",
    "TcpPrinter",
    "UsbPrinter",
    "VirtualBackend",
    "backend_schemes",
    "open_printer",
    "parse_lpstat",
    "register_backend",
]

DEFAULT_TCP_PORT = 9100


class Printer(ABC):
    """A handle on one printer."""

    def __init__(self, uri: str, timeout: float) -> None:
        self.uri = uri
        self.timeout = timeout

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer; returns within ``timeout``.

        Raises :class:`PrinterTimeout` when the printer was reached but did
        not answer in time.
        """

    @abstractmethod
    def print_bytes(self, data: bytes) -> None:
        """Send one job.  Raises :class:`PrinterError` subclasses; bounded by ``timeout``."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing open
        """Release the device."""

    def __enter__(self) -> Printer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uri!r} timeout={self.timeout}>"


BackendFactory = Callable[[str, float], Printer]
_BACKENDS: dict[str, BackendFactory] = {}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)")


def register_backend(scheme: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Make ``open_printer("SCHEME:...")`` call ``factory(uri, timeout)``."""
    scheme = scheme.lower()
    if not _SCHEME.fullmatch(scheme):
        raise ValueError(f"invalid URI scheme {scheme!r}")
    if scheme in _BACKENDS and not replace:
        raise ValueError(f"a backend for {scheme!r} is already registered")
    _BACKENDS[scheme] = factory


def backend_schemes() -> list[str]:
    return sorted(_BACKENDS)


def open_printer(uri: str, timeout: float = 5.0) -> Printer:
    """A handle on the printer named by ``uri``.

    The URI is checked here (``ValueError`` with the reason); the device itself
    is opened lazily, so a printer that is off does not stop a handle being made.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError("printer URI must be a non-empty string")
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    uri = uri.strip()
    m = _SCHEME.match(uri)
    rest = uri[m.end() :] if m else ""
    if not m or (rest and rest[0] not in ":?"):
        raise ValueError(f"printer URI {uri!r} has no scheme; expected one of: {', '.join(backend_schemes())}")
    scheme = m.group(1).lower()
    factory = _BACKENDS.get(scheme)
    if factory is None:
        raise ValueError(f"unknown printer URI scheme {scheme!r} in {uri!r}; known: {', '.join(backend_schemes())}")
    return factory(uri, float(timeout))


# ---------------------------------------------------------------- URI helpers
def _after_scheme(uri: str) -> str:
    m = _SCHEME.match(uri)
    assert m is not None
    rest = uri[m.end() :]
    return rest[1:] if rest.startswith(":") else rest


def _split_query(uri: str, rest: str, allowed: set[str]) -> tuple[str, dict[str, str]]:
    path, _, query = rest.partition("?")
    params: dict[str, str] = {}
    if query:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        except ValueError as exc:
            raise ValueError(f"printer URI {uri!r}: malformed query string: {exc}") from exc
        for key, value in pairs:
            if key in params:
                raise ValueError(f"printer URI {uri!r}: parameter {key!r} given twice")
            params[key] = value
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(
            f"printer URI {uri!r}: unknown parameter(s) {', '.join(sorted(unknown))};"
            f" allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
    return path, params


def _int_param(uri: str, name: str, value: str, lo: int, hi: int) -> int:
    try:
        number = int(value, 0)
    except ValueError:
        raise ValueError(f"printer URI {uri!r}: {name} must be an integer, not {value!r}") from None
    if not lo <= number <= hi:
        raise ValueError(f"printer URI {uri!r}: {name} must be between {lo} and {hi}, not {number}")
    return number


def _bool_param(uri: str, name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"printer URI {uri!r}: {name} must be true or false, not {value!r}")


# ------------------------------------------------------------------------ USB
_HEX_ID = re.compile(r"(?:0x)?([0-9A-Fa-f]{1,4})")


class UsbPrinter(Printer):
    """A USB printer through python-escpos' ``Usb`` (pyusb / libusb).

    python-escpos defaults to ``timeout=0``, which libusb takes as "wait
    forever": here every transfer gets the handle's timeout in milliseconds.
    """

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        ids, params = _split_query(uri, _after_scheme(uri), {"in_ep", "out_ep"})
        parts = ids.split(":")
        if len(parts) != 2 or not all(_HEX_ID.fullmatch(p) for p in parts):
            raise ValueError(f"USB printer URI must be usb:VID:PID with hex ids (usb:04b8:0e15), not {uri!r}")
        self.vendor_id, self.product_id = (int(_HEX_ID.fullmatch(p).group(1), 16) for p in parts)  # type: ignore[union-attr]
        if not self.vendor_id or not self.product_id:
            raise ValueError(f"printer URI {uri!r}: vendor and product id must not be 0")
        self.in_ep = _int_param(uri, "in_ep", params.get("in_ep", "0x82"), 0x80, 0xFF)
        self.out_ep = _int_param(uri, "out_ep", params.get("out_ep", "0x01"), 0x00, 0x7F)
        self.timeout_ms = max(1, math.ceil(timeout * 1000))
        self._escpos: Any = None
        self._lock = threading.Lock()

    @property
    def _ids(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self) -> Any:
        if self._escpos is not None:
            return self._escpos
        import usb.core
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        printer = Usb(self.vendor_id, self.product_id, timeout=self.timeout_ms, in_ep=self.in_ep, out_ep=self.out_ep)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise PrinterOffline(f"USB printer {self._ids} not found: {exc}") from exc
        except usb.core.NoBackendError as exc:
            raise PrinterOffline(f"USB printer {self._ids}: libusb is not available ({exc})") from exc
        except usb.core.USBError as exc:
            raise PrinterOffline(f"USB printer {self._ids} cannot be opened: {exc}") from exc
        self._escpos = printer
        return printer

    def _drop(self) -> None:
        printer, self._escpos = self._escpos, None
        if printer is not None:
            with contextlib.suppress(Exception):
                printer.close()

    def print_bytes(self, data: bytes) -> None:
        import usb.core

        with self._lock:
            printer = self._open()
            try:
                # What Usb._raw does, with the byte count checked.
                written = printer.device.write(printer.out_ep, data, printer.timeout)
            except usb.core.USBTimeoutError as exc:
                self._drop()
                raise PrinterTimeout(f"USB printer {self._ids} did not take the job in {self.timeout} s") from exc
            except usb.core.USBError as exc:
                self._drop()
                raise PrinterOffline(f"USB printer {self._ids}: {exc}") from exc
            if written != len(data):
                raise PrinterError(f"USB printer {self._ids} took {written} of {len(data)} bytes")

    def status(self) -> PrinterStatus:
        import usb.core

        with self._lock:
            try:
                printer = self._open()
            except PrinterOffline:
                return PrinterStatus.OFFLINE
            device = printer.device

            def transact(cmd: bytes, left: float) -> bytes:
                ms = max(1, int(left * 1000))
                device.write(printer.out_ep, cmd, ms)
                try:
                    return bytes(device.read(printer.in_ep, 16, ms))
                except usb.core.USBTimeoutError:
                    raise PrinterTimeout(
                        f"USB printer {self._ids}: no reply to a status query in {self.timeout} s"
                    ) from None

            try:
                self._drain(device, printer.in_ep)
                status, _ = query_status(transact, self.timeout)
                return status
            except usb.core.USBTimeoutError as exc:
                raise PrinterTimeout(f"USB printer {self._ids}: status query not accepted: {exc}") from exc
            except usb.core.USBError:
                self._drop()
                return PrinterStatus.OFFLINE

    @staticmethod
    def _drain(device: Any, in_ep: int) -> None:
        """Discard replies left over from an earlier, timed-out query."""
        import usb.core

        for _ in range(8):
            try:
                if not device.read(in_ep, 64, 1):
                    return
            except usb.core.USBTimeoutError:
                return

    def close(self) -> None:
        with self._lock:
            self._drop()


# ------------------------------------------------------------------------ TCP
class TcpPrinter(Printer):
    """A LAN printer taking raw ESC/POS on a TCP port (9100 by default).

    Each call uses its own connection: a printer that rebooted between jobs is
    then noticed at connect time instead of swallowing a job on a dead socket.
    """

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        parts = urlsplit(uri)
        if not uri.lower().startswith("tcp://") or not parts.hostname:
            raise ValueError(f"TCP printer URI must be tcp://HOST[:PORT], not {uri!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError(f"TCP printer URI {uri!r}: only tcp://HOST[:PORT] is allowed")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"TCP printer URI {uri!r}: invalid port ({exc})") from exc
        self.host = parts.hostname
        self.port = port or DEFAULT_TCP_PORT
        if not 1 <= self.port <= 65535:
            raise ValueError(f"TCP printer URI {uri!r}: port must be 1-65535")

    def _connect(self, deadline: float) -> socket.socket:
        left = max(0.001, deadline - time.monotonic())
        try:
            sock = socket.create_connection((self.host, self.port), timeout=left)
        except ConnectionRefusedError as exc:
            raise PrinterOffline(f"{self.host}:{self.port} refused the connection") from exc
        except TimeoutError as exc:
            raise PrinterOffline(f"{self.host}:{self.port} did not answer a connection in {self.timeout} s") from exc
        except OSError as exc:
            raise PrinterOffline(f"{self.host}:{self.port} cannot be reached: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def print_bytes(self, data: bytes) -> None:
        deadline = time.monotonic() + self.timeout
        sock = self._connect(deadline)
        try:
            view = memoryview(data)
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                sent = sock.send(view)
                view = view[sent:]
            sock.shutdown(socket.SHUT_WR)
            # Unread input at close() makes the kernel reset the connection,
            # which can lose the end of the job: take whatever has arrived.
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                while sock.recv(4096):
                    pass
        except TimeoutError as exc:
            raise PrinterTimeout(
                f"{self.host}:{self.port} did not take the job ({len(data)} bytes) in {self.timeout} s"
            ) from exc
        except OSError as exc:
            raise PrinterOffline(f"{self.host}:{self.port}: connection lost while sending: {exc}") from exc
        finally:
            sock.close()

    def status(self) -> PrinterStatus:
        deadline = time.monotonic() + self.timeout
        try:
            sock = self._connect(deadline)
        except PrinterOffline:
            return PrinterStatus.OFFLINE

        asked_ahead: list[bytes] = []

        def transact(cmd: bytes, left: float) -> bytes:
            # The paper sensor is asked together with the printer's state: one round trip
            # over the LAN instead of two (real-time queries are answered in the order asked).
            try:
                sock.settimeout(max(0.001, left))
                if asked_ahead and asked_ahead[0] == cmd:
                    asked_ahead.pop(0)
                elif cmd == DLE_EOT_PRINTER:
                    sock.sendall(DLE_EOT_PRINTER + DLE_EOT_PAPER)
                    asked_ahead.append(DLE_EOT_PAPER)
                else:
                    sock.sendall(cmd)
                return sock.recv(1)
            except TimeoutError:
                raise PrinterTimeout(
                    f"{self.host}:{self.port}: no reply to a status query in {self.timeout} s"
                ) from None
            except OSError:
                return b""  # reset by the printer: nothing was answered

        try:
            status, _ = query_status(transact, max(0.001, deadline - time.monotonic()))
            return status
        finally:
            sock.close()


# --------------------------------------------------------------------- serial
_PARITIES = {"N": "N", "E": "E", "O": "O", "M": "M", "S": "S"}


class SerialPrinter(Printer):
    """A serial printer through pyserial; the port stays open between calls."""

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        allowed = {"baudrate", "bytesize", "parity", "stopbits", "rtscts", "dsrdtr", "xonxoff"}
        port, params = _split_query(uri, _after_scheme(uri), allowed)
        if not port:
            raise ValueError(f"serial printer URI must be serial:/dev/ttyXXX[?baudrate=N], not {uri!r}")
        self.port = port
        self.baudrate = _int_param(uri, "baudrate", params.get("baudrate", "9600"), 50, 4_000_000)
        self.bytesize = _int_param(uri, "bytesize", params.get("bytesize", "8"), 5, 8)
        parity = params.get("parity", "N").upper()[:1]
        if parity not in _PARITIES:
            raise ValueError(f"printer URI {uri!r}: parity must be N, E, O, M or S")
        self.parity = parity
        stopbits = params.get("stopbits", "1")
        if stopbits not in ("1", "1.5", "2"):
            raise ValueError(f"printer URI {uri!r}: stopbits must be 1, 1.5 or 2")
        self.stopbits = float(stopbits) if stopbits == "1.5" else int(stopbits)
        self.rtscts = _bool_param(uri, "rtscts", params.get("rtscts", "0"))
        self.dsrdtr = _bool_param(uri, "dsrdtr", params.get("dsrdtr", "0"))
        self.xonxoff = _bool_param(uri, "xonxoff", params.get("xonxoff", "0"))
        self._serial: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        import serial

        if self._serial is not None and self._serial.is_open:
            return self._serial
        port = serial.Serial()
        port.port = self.port
        port.baudrate = self.baudrate
        port.bytesize = self.bytesize
        port.parity = self.parity
        port.stopbits = self.stopbits
        port.rtscts = self.rtscts
        port.dsrdtr = self.dsrdtr
        port.xonxoff = self.xonxoff
        port.timeout = self.timeout
        port.write_timeout = self.timeout
        try:
            port.open()
        except (serial.SerialException, OSError) as exc:
            raise PrinterOffline(f"serial port {self.port} cannot be opened: {exc}") from exc
        self._serial = port
        return port

    def _drop(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    def print_bytes(self, data: bytes) -> None:
        import serial

        with self._lock:
            port = self._open()
            try:
                port.write_timeout = self.timeout
                written = port.write(data)
            except serial.SerialTimeoutException as exc:
                raise PrinterTimeout(f"serial port {self.port}: job not taken in {self.timeout} s") from exc
            except (serial.SerialException, OSError) as exc:
                self._drop()
                raise PrinterOffline(f"serial port {self.port}: {exc}") from exc
            if written != len(data):
                raise PrinterError(f"serial port {self.port} took {written} of {len(data)} bytes")

    def status(self) -> PrinterStatus:
        import serial

        with self._lock:
            try:
                port = self._open()
            except PrinterOffline:
                return PrinterStatus.OFFLINE

            def transact(cmd: bytes, left: float) -> bytes:
                port.write_timeout = max(0.001, left)
                port.write(cmd)
                port.timeout = max(0.001, left)
                reply = port.read(1)
                if not reply:  # a serial line has no "closed": nothing means no answer
                    raise PrinterTimeout(f"serial port {self.port}: no reply to a status query in {self.timeout} s")
                return reply

            try:
                port.reset_input_buffer()
                status, _ = query_status(transact, self.timeout)
                return status
            except serial.SerialTimeoutException as exc:
                raise PrinterTimeout(f"serial port {self.port}: status query not taken: {exc}") from exc
            except (serial.SerialException, OSError):
                self._drop()
                return PrinterStatus.OFFLINE

    def close(self) -> None:
        with self._lock:
            self._drop()


# ----------------------------------------------------------------------- CUPS
_CUPS_QUEUE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,126}")
_CUPS_HOST = re.compile(r"[A-Za-z0-9_\[][A-Za-z0-9_.:\[\]-]{0,254}")  # no leading "-": not an lp option


def parse_lpstat(output: str, returncode: int = 0) -> PrinterStatus:
    """Status of a CUPS queue from ``lpstat -l -p QUEUE`` (run with ``LC_ALL=C``).

    CUPS only knows what its backend reported, so a raw queue is mostly OK,
    OFFLINE or UNKNOWN; paper states appear when the backend reports
    ``media-empty`` / ``media-low`` alerts.
    """
    text = output.lower()
    if returncode != 0:
        return PrinterStatus.OFFLINE
    if not text.strip():
        return PrinterStatus.UNKNOWN
    if re.search(r"media-empty|media-needed|out of paper|paper out|no paper", text):
        return PrinterStatus.PAPER_OUT
    first = text.splitlines()[0]
    if " disabled" in first or re.search(
        r"offline|not connected|unable to connect|waiting for printer|not responding", text
    ):
        return PrinterStatus.OFFLINE
    if re.search(r"media-low|paper low|near end", text):
        return PrinterStatus.PAPER_LOW
    if " is idle" in first or " now printing" in first:
        return PrinterStatus.OK
    return PrinterStatus.UNKNOWN


class CupsPrinter(Printer):
    """A CUPS queue, fed raw jobs with ``lp -d QUEUE -o raw``.

    CUPS spools the job and returns: ``print_bytes`` succeeding means "queued",
    not "on paper".  Status comes from ``lpstat``.
    """

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        queue, params = _split_query(uri, _after_scheme(uri), {"host"})
        if not _CUPS_QUEUE.fullmatch(queue):
            raise ValueError(f"CUPS printer URI must be cups:QUEUE (letters, digits, _ . @ + -), not {uri!r}")
        self.queue = queue
        self.host = params.get("host")
        if self.host is not None and not _CUPS_HOST.fullmatch(self.host):
            raise ValueError(f"printer URI {uri!r}: invalid CUPS host {self.host!r}")

    def _host_args(self) -> list[str]:
        return ["-h", self.host] if self.host else []

    def lp_command(self) -> list[str]:
        """The argv of the print command (``lp`` resolved on PATH)."""
        lp = shutil.which("lp")
        if lp is None:
            raise PrinterOffline("CUPS client program 'lp' is not installed (Debian: apt-get install cups-client)")
        return [lp, *self._host_args(), "-d", self.queue, "-o", "raw", "-t", "antre-ticket"]

    def lpstat_command(self) -> list[str]:
        lpstat = shutil.which("lpstat")
        if lpstat is None:
            raise PrinterOffline("CUPS client program 'lpstat' is not installed")
        return [lpstat, *self._host_args(), "-l", "-p", self.queue]

    def _run(self, argv: list[str], data: bytes | None) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "LC_ALL": "C"}
        try:
            return subprocess.run(argv, input=data, capture_output=True, timeout=self.timeout, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PrinterTimeout(f"{os.path.basename(argv[0])} did not finish in {self.timeout} s") from exc
        except OSError as exc:
            raise PrinterOffline(f"cannot run {argv[0]}: {exc}") from exc

    def print_bytes(self, data: bytes) -> None:
        result = self._run(self.lp_command(), data)
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip() or f"exit status {result.returncode}"
            if re.search(r"does not exist|not accepting|unable to connect|no such", message, re.I):
                raise PrinterOffline(f"CUPS queue {self.queue}: {message}")
            raise PrinterError(f"CUPS queue {self.queue}: {message}")

    def status(self) -> PrinterStatus:
        try:
            argv = self.lpstat_command()
        except PrinterOffline:
            return PrinterStatus.OFFLINE
        result = self._run(argv, None)
        return parse_lpstat(result.stdout.decode(errors="replace"), result.returncode)


# ----------------------------------------------------------------------- file
class FilePrinter(Printer):
    """Writes each job to its own ``.bin`` file in a directory, atomically.

    The file is written under a temporary name, flushed to disk and renamed,
    so a reader never sees half a ticket.  Names sort in print order.
    """

    _seq = itertools.count(1)
    _seq_lock = threading.Lock()

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        rest = _after_scheme(uri)
        if rest.startswith("//"):
            parts = urlsplit(uri)
            if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
                raise ValueError(f"file printer URI must be file:DIR or file:///DIR, not {uri!r}")
            rest = unquote(parts.path)
        if not rest or "\x00" in rest:
            raise ValueError(f"file printer URI must name a directory (file:DIR), not {uri!r}")
        self.directory = Path(rest)

    def _writable(self) -> bool:
        return self.directory.is_dir() and os.access(self.directory, os.W_OK | os.X_OK)

    def status(self) -> PrinterStatus:
        return PrinterStatus.OK if self._writable() else PrinterStatus.OFFLINE

    def print_bytes(self, data: bytes) -> None:
        if not self._writable():
            raise PrinterOffline(f"directory {self.directory} does not exist or is not writable")
        with self._seq_lock:
            seq = next(self._seq)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{time.time_ns() % 1_000_000_000:09d}-{seq:06d}-{uuid.uuid4().hex[:8]}.bin"
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            with contextlib.suppress(OSError):
                dir_fd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise PrinterError(f"cannot write {final}: {exc}") from exc

    def files(self) -> list[Path]:
        """The job files written so far, in print order."""
        return sorted(self.directory.glob("*.bin"))


# -------------------------------------------------------------------- virtual
_VIRTUAL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class VirtualBackend(Printer):
    """A handle on a :class:`~printing.virtual.VirtualPrinter` from the registry.

    ``virtual:NAME?fault=paper_out&delay=2`` applies the faults (comma
    separated, from :data:`~printing.virtual.FAULTS`) when the handle is made;
    without parameters the device's current state is left alone.
    """

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout)
        name, params = _split_query(uri, _after_scheme(uri), {"fault", "delay"})
        name = name or "default"
        if not _VIRTUAL_NAME.fullmatch(name):
            raise ValueError(f"virtual printer name must be letters, digits, _ . - (got {name!r} in {uri!r})")
        faults = [f for f in params.get("fault", "").split(",") if f]
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"printer URI {uri!r}: unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        delay: float | None = None
        if "delay" in params:
            try:
                delay = float(params["delay"])
            except ValueError:
                raise ValueError(f"printer URI {uri!r}: delay must be a number of seconds") from None
            if not (math.isfinite(delay) and delay >= 0):
                raise ValueError(f"printer URI {uri!r}: delay must be >= 0")
        self.name = name
        self.device: VirtualPrinter = get_virtual_printer(name)
        for fault in faults:
            self.device.inject(fault, delay if fault == "slow" else None)
        if delay is not None and "slow" not in faults:
            self.device.set_delay(delay)

    def print_bytes(self, data: bytes) -> None:
        try:
            self.device.write(data, timeout=self.timeout)
        except TimeoutError as exc:
            raise PrinterTimeout(f"virtual printer {self.name!r}: {exc}") from exc
        except ConnectionError as exc:
            raise PrinterOffline(str(exc)) from exc

    def status(self) -> PrinterStatus:
        device = self.device

        def transact(cmd: bytes, left: float) -> bytes:
            device.write(cmd)
            reply = device.read(1, timeout=left)
            if not reply:
                raise PrinterTimeout(f"virtual printer {self.name!r}: no reply to a status query in {self.timeout} s")
            return reply

        try:
            device.drain_replies()
            status, _ = query_status(transact, self.timeout)
            return status
        except ConnectionError:
            return PrinterStatus.OFFLINE


register_backend("usb", UsbPrinter)
register_backend("tcp", TcpPrinter)
register_backend("serial", SerialPrinter)
register_backend("cups", CupsPrinter)
register_backend("file", FilePrinter)
register_backend("virtual", VirtualBackend)
