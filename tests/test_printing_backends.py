"""Printer backends against real (or emulated-at-the-boundary) devices."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import usb.core
import usb.util

import printing
from printing import backends
from printing.backends import (
    CupsPrinter,
    FilePrinter,
    Printer,
    SerialPrinter,
    TcpPrinter,
    UsbPrinter,
    VirtualBackend,
    open_printer,
    parse_lpstat,
    register_backend,
)
from printing.decode import decode
from printing.fake_network_printer import FakeNetworkPrinter
from printing.status import PrinterError, PrinterOffline, PrinterStatus, PrinterTimeout
from printing.ticket import render_ticket
from printing.virtual import VirtualPrinter, get_virtual_printer, remove_virtual_printer
from tests.printing_support.pty_serial import PtySerialPrinter
from tests.printing_support.tickets import make_ticket
from tests.printing_support.usb import FakeUsbDevice

S = PrinterStatus
TICKET = render_ticket(make_ticket(), 58)
FAST = 0.4  # seconds: the timeout used against misbehaving printers


def elapsed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def raises_within(exc: type[BaseException], fn: Callable[[], object]) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(exc) as info:
        fn()
    return info.value, time.monotonic() - start


# ------------------------------------------------------------------ URIs
@pytest.mark.parametrize(
    ("uri", "cls", "attrs"),
    [
        ("usb:04b8:0e15", UsbPrinter, {"vendor_id": 0x04B8, "product_id": 0x0E15, "in_ep": 0x82, "out_ep": 0x01}),
        ("usb:0x04B8:0x0E15?in_ep=0x81&out_ep=2", UsbPrinter, {"in_ep": 0x81, "out_ep": 2}),
        ("tcp://192.168.1.50", TcpPrinter, {"host": "192.168.1.50", "port": 9100}),
        ("tcp://printer.local:9101", TcpPrinter, {"host": "printer.local", "port": 9101}),
        ("tcp://[fe80::1]:9100", TcpPrinter, {"host": "fe80::1", "port": 9100}),
        ("serial:/dev/ttyUSB0", SerialPrinter, {"port": "/dev/ttyUSB0", "baudrate": 9600}),
        (
            "serial:/dev/ttyS0?baudrate=19200&parity=E&stopbits=2&rtscts=1",
            SerialPrinter,
            {"baudrate": 19200, "parity": "E", "stopbits": 2, "rtscts": True},
        ),
        ("serial:COM3", SerialPrinter, {"port": "COM3"}),
        ("cups:Kiosk_1", CupsPrinter, {"queue": "Kiosk_1", "host": None}),
        ("cups:TM-T20?host=cups.local:631", CupsPrinter, {"queue": "TM-T20", "host": "cups.local:631"}),
        ("file:/var/lib/antre/tickets", FilePrinter, {"directory": Path("/var/lib/antre/tickets")}),
        ("file:///var/lib/antre/tickets", FilePrinter, {"directory": Path("/var/lib/antre/tickets")}),
        ("file:tickets", FilePrinter, {"directory": Path("tickets")}),
        ("virtual", VirtualBackend, {"name": "default"}),
        ("virtual:uri-test", VirtualBackend, {"name": "uri-test"}),
        (" VIRTUAL:uri-test ", VirtualBackend, {"name": "uri-test"}),
    ],
)
def test_uri_parsing(uri: str, cls: type[Printer], attrs: dict[str, object]) -> None:
    printer = open_printer(uri, timeout=2.5)
    assert type(printer) is cls and printer.timeout == 2.5
    for name, value in attrs.items():
        assert getattr(printer, name) == value, name
    if cls is UsbPrinter:
        assert printer.timeout_ms == 2500  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("printer", "unknown printer URI scheme 'printer'"),
        ("/dev/usb/lp0", "no scheme"),
        ("9100:printer", "no scheme"),
        ("lpt:1", "unknown printer URI scheme 'lpt'"),
        ("usb:04b8", "usb:VID:PID"),
        ("usb:zzzz:0e15", "usb:VID:PID"),
        ("usb:04b8:0e15:01", "usb:VID:PID"),
        ("usb:12345:0e15", "usb:VID:PID"),
        ("usb:0000:0e15", "must not be 0"),
        ("usb:04b8:0e15?speed=1", "unknown parameter"),
        ("usb:04b8:0e15?out_ep=0x81", "out_ep must be between"),
        ("tcp://", "tcp://HOST"),
        ("tcp:printer", "tcp://HOST"),
        ("tcp://printer:99999", "port"),
        ("tcp://printer:abc", "port"),
        ("tcp://printer/queue", "only tcp://HOST"),
        ("tcp://printer?x=1", "only tcp://HOST"),
        ("serial:", "serial:/dev/tty"),
        ("serial:/dev/ttyS0?baudrate=fast", "baudrate must be an integer"),
        ("serial:/dev/ttyS0?parity=Z", "parity"),
        ("serial:/dev/ttyS0?stopbits=3", "stopbits"),
        ("serial:/dev/ttyS0?rtscts=maybe", "rtscts must be true or false"),
        ("serial:/dev/ttyS0?baudrate=9600&baudrate=19200", "given twice"),
        ("serial:/dev/ttyS0?baudrate", "malformed query"),
        ("cups:", "cups:QUEUE"),
        ("cups:-o", "cups:QUEUE"),
        ("cups:bad queue", "cups:QUEUE"),
        ("cups:a/b", "cups:QUEUE"),
        ("cups:q?host=-oX", "invalid CUPS host"),
        ("file:", "must name a directory"),
        ("file://otherhost/tickets", "file:DIR"),
        ("virtual:bad name", "virtual printer name"),
        ("virtual:?fault=fire", "unknown fault 'fire'"),
        ("virtual:?delay=-1", "delay must be >= 0"),
        ("virtual:?delay=soon", "delay must be a number"),
        ("virtual:?colour=red", "unknown parameter"),
    ],
)
def test_bad_uris_say_why(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_printer(uri)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_bad_timeouts(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        open_printer("virtual", timeout=timeout)


def test_registry_takes_new_schemes() -> None:
    class Memory(Printer):
        def __init__(self, uri: str, timeout: float) -> None:
            super().__init__(uri, timeout)
            self.jobs: list[bytes] = []
            self.closed = False

        def status(self) -> PrinterStatus:
            return S.OK

        def print_bytes(self, data: bytes) -> None:
            self.jobs.append(data)

        def close(self) -> None:
            self.closed = True

    register_backend("memory", Memory)
    try:
        assert "memory" in backends.backend_schemes()
        with open_printer("memory:anything", timeout=1) as printer:
            assert isinstance(printer, Memory) and printer.uri == "memory:anything"
            printer.print_bytes(b"x")
        assert printer.closed and printer.jobs == [b"x"]
        with pytest.raises(ValueError, match="already registered"):
            register_backend("memory", Memory)
        register_backend("MEMORY", Memory, replace=True)
        with pytest.raises(ValueError, match="invalid URI scheme"):
            register_backend("no good", Memory)
    finally:
        backends._BACKENDS.pop("memory", None)


def test_package_exports_what_doctor_uses() -> None:
    assert printing.open_printer is open_printer
    assert printing.PrinterStatus is PrinterStatus


# ------------------------------------------------------------------- TCP
@pytest.fixture
def lan() -> Iterator[FakeNetworkPrinter]:
    with FakeNetworkPrinter(VirtualPrinter("lan")) as server:
        yield server


def test_tcp_print_and_status(lan: FakeNetworkPrinter) -> None:
    printer = open_printer(lan.uri, timeout=2)
    assert printer.status() is S.OK
    printer.print_bytes(TICKET)
    (ticket,) = lan.printer.wait_for_tickets(1, timeout=2)
    assert ticket.data == TICKET
    assert ticket.decoded.qr_codes[0].text == "http://antre.local/t/8f3a2c91"
    assert printer.status() is S.OK


def test_tcp_status_asks_printer_and_paper_in_one_round_trip(lan: FakeNetworkPrinter) -> None:
    printer = open_printer(lan.uri, timeout=2)
    lan.inject("paper_low")
    assert printer.status() is S.PAPER_LOW  # the paper sensor's answer is read, in order
    deadline = time.monotonic() + 2
    while lan.connections < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lan.connections == 1 and lan.reads == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("paper_out", S.PAPER_OUT), ("paper_low", S.PAPER_LOW), ("offline", S.OFFLINE), ("hang_up", S.UNKNOWN)],
)
def test_tcp_status_faults(lan: FakeNetworkPrinter, fault: str, expected: PrinterStatus) -> None:
    lan.inject(fault)
    status, took = elapsed(open_printer(lan.uri, timeout=2).status)
    assert status is expected and took < 0.5


def test_tcp_silent_printer_times_out_within_the_timeout(lan: FakeNetworkPrinter) -> None:
    lan.inject("silent")
    error, took = raises_within(PrinterTimeout, open_printer(lan.uri, timeout=FAST).status)
    assert FAST * 0.9 <= took < FAST + 0.5  # not python-escpos' 60 s
    assert "no reply to a status query" in str(error)


def test_tcp_refused_is_offline_at_once(lan: FakeNetworkPrinter) -> None:
    lan.inject("refuse")
    printer = open_printer(lan.uri, timeout=5)
    status, took = elapsed(printer.status)
    assert status is S.OFFLINE and took < 0.5
    error, took = raises_within(PrinterOffline, lambda: printer.print_bytes(TICKET))
    assert took < 0.5 and "refused" in str(error)
    lan.clear_faults()  # the port opens again
    assert printer.status() is S.OK


def test_tcp_nothing_listening_is_offline() -> None:
    with FakeNetworkPrinter() as gone:
        uri = gone.uri
    status, took = elapsed(open_printer(uri, timeout=5).status)
    assert status is S.OFFLINE and took < 0.5


def test_tcp_stalled_printer(lan: FakeNetworkPrinter) -> None:
    """Hung firmware: connects, never reads. A big job fills the window and times out."""
    lan.inject("stall")
    printer = open_printer(lan.uri, timeout=FAST)
    _, took = raises_within(PrinterTimeout, printer.status)
    assert took < FAST + 0.5
    lan.inject("none")
    lan.inject("stall")
    error, took = raises_within(PrinterTimeout, lambda: printer.print_bytes(b"A" * 32_000_000))
    assert took < FAST + 0.5 and "did not take the job" in str(error)


def test_tcp_slow_printer_takes_the_job_but_is_busy(lan: FakeNetworkPrinter) -> None:
    lan.inject("slow", delay=1.0)
    printer = open_printer(lan.uri, timeout=FAST)
    printer.print_bytes(TICKET)  # into the printer's buffer
    _, took = raises_within(PrinterTimeout, printer.status)  # busy printing, not reading
    assert took < FAST + 0.5
    assert len(lan.printer.wait_for_tickets(1, timeout=3)) == 1


# ------------------------------------------------------------------ file
def test_file_backend_one_bin_per_ticket(tmp_path: Path) -> None:
    printer = open_printer(f"file:{tmp_path}")
    assert printer.status() is S.OK
    numbers = ["A001", "A002", "A003"]
    for number in numbers:
        printer.print_bytes(render_ticket(make_ticket(number=number), 80))
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3 and all(f.suffix == ".bin" for f in files)  # no temp files left
    assert files == printer.files()  # type: ignore[attr-defined]
    printed = [decode(f.read_bytes()) for f in files]
    assert [d.find("A00").text for d in printed] == numbers  # type: ignore[union-attr]


def test_file_backend_missing_directory(tmp_path: Path) -> None:
    printer = open_printer(f"file:{tmp_path / 'absent'}")
    assert printer.status() is S.OFFLINE
    with pytest.raises(PrinterOffline, match="does not exist"):
        printer.print_bytes(TICKET)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert open_printer(f"file:{not_a_dir}").status() is S.OFFLINE


def test_file_backend_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backends.os, "replace", disk_full)
    with pytest.raises(PrinterError, match="No space left"):
        open_printer(f"file:{tmp_path}").print_bytes(TICKET)
    assert list(tmp_path.iterdir()) == []  # neither half a ticket nor a temp file


# --------------------------------------------------------------- virtual
@pytest.fixture
def vname(request: pytest.FixtureRequest) -> Iterator[str]:
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", f"b-{request.node.name}")[:64]
    yield name
    remove_virtual_printer(name)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", S.OK), ("?fault=paper_out", S.PAPER_OUT), ("?fault=paper_low", S.PAPER_LOW), ("?fault=offline", S.OFFLINE)],
)
def test_virtual_backend_faults_from_uri(vname: str, query: str, expected: PrinterStatus) -> None:
    printer = open_printer(f"virtual:{vname}{query}", timeout=1)
    assert printer.status() is expected
    printer.print_bytes(TICKET)
    device = get_virtual_printer(vname)
    assert len(device.tickets) == (1 if expected in (S.OK, S.PAPER_LOW) else 0)
    assert open_printer(f"virtual:{vname}").status() is expected  # no params: state kept


def test_virtual_backend_slow(vname: str) -> None:
    _, took = elapsed(lambda: open_printer(f"virtual:{vname}?fault=slow&delay=0.3", timeout=2).print_bytes(TICKET))
    assert took >= 0.29
    _, took = raises_within(PrinterTimeout, lambda: open_printer(f"virtual:{vname}", timeout=0.1).print_bytes(TICKET))
    assert took < 0.3


def test_virtual_backend_silent(vname: str) -> None:
    printer = open_printer(f"virtual:{vname}?fault=silent", timeout=FAST)
    _, took = raises_within(PrinterTimeout, printer.status)
    assert FAST * 0.9 <= took < FAST + 0.3


def test_virtual_backend_disconnected(vname: str) -> None:
    printer = open_printer(f"virtual:{vname}?fault=disconnected", timeout=1)
    assert printer.status() is S.OFFLINE
    with pytest.raises(PrinterOffline, match="disconnected"):
        printer.print_bytes(TICKET)


def test_virtual_backend_several_faults(vname: str) -> None:
    printer = open_printer(f"virtual:{vname}?fault=paper_low,slow&delay=0.05", timeout=1)
    assert printer.status() is S.PAPER_LOW
    assert get_virtual_printer(vname).faults["delay"] == 0.05


# ------------------------------------------------------------------- USB
@pytest.fixture
def usb_printer(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUsbDevice]:
    """A USB printer at 04b8:0e15 (pyusb's find() and dispose_resources() replaced)."""
    device = FakeUsbDevice(VirtualPrinter("usb"), idVendor=0x04B8, idProduct=0x0E15)
    state = {"plugged": True}

    def find(**match: int) -> FakeUsbDevice | None:
        wanted = (match.get("idVendor"), match.get("idProduct"))
        return device if state["plugged"] and wanted == (device.idVendor, device.idProduct) else None

    def dispose_resources(dev: object) -> None:
        device.disposed += 1

    monkeypatch.setattr(usb.core, "find", find)
    monkeypatch.setattr(usb.util, "dispose_resources", dispose_resources)
    device.plug = state  # type: ignore[attr-defined]
    yield device


def test_usb_print_with_an_explicit_timeout(usb_printer: FakeUsbDevice) -> None:
    printer = open_printer("usb:04b8:0e15", timeout=1.5)
    printer.print_bytes(TICKET)
    (ticket,) = usb_printer.printer.tickets
    assert ticket.data == TICKET
    (write,) = usb_printer.transfers
    assert (write.kind, write.endpoint, write.size) == ("write", 0x01, len(TICKET))
    assert write.timeout == 1500  # python-escpos' default 0 would mean "forever"
    assert usb_printer.configured
    printer.close()
    assert usb_printer.disposed == 1


@pytest.mark.parametrize(("fault", "expected"), [("none", S.OK), ("paper_out", S.PAPER_OUT), ("offline", S.OFFLINE)])
def test_usb_status(usb_printer: FakeUsbDevice, fault: str, expected: PrinterStatus) -> None:
    usb_printer.printer.inject(fault)
    with open_printer("usb:04b8:0e15", timeout=1) as printer:
        assert printer.status() is expected
    reads = [t for t in usb_printer.transfers if t.kind == "read"]
    assert reads and all(t.endpoint == 0x82 and t.timeout for t in reads)
    assert all(t.timeout and 0 < t.timeout <= 1000 for t in usb_printer.transfers)


def test_usb_silent_printer_times_out(usb_printer: FakeUsbDevice) -> None:
    usb_printer.printer.inject("silent")
    with open_printer("usb:04b8:0e15", timeout=FAST) as printer:
        _, took = raises_within(PrinterTimeout, printer.status)
    assert took < FAST + 0.5


def test_usb_not_plugged_in(usb_printer: FakeUsbDevice) -> None:
    usb_printer.plug["plugged"] = False  # type: ignore[attr-defined]
    printer = open_printer("usb:04b8:0e15", timeout=1)
    assert printer.status() is S.OFFLINE
    with pytest.raises(PrinterOffline, match="04b8:0e15 not found"):
        printer.print_bytes(TICKET)
    usb_printer.plug["plugged"] = True  # type: ignore[attr-defined]
    printer.print_bytes(TICKET)  # found once plugged in
    assert len(usb_printer.printer.tickets) == 1
    printer.close()


def test_usb_write_timeout_then_reopen(usb_printer: FakeUsbDevice) -> None:
    usb_printer.printer.set_delay(1.0)
    printer = open_printer("usb:04b8:0e15", timeout=0.2)
    _, took = raises_within(PrinterTimeout, lambda: printer.print_bytes(TICKET))
    assert took < 0.6
    assert usb_printer.disposed == 1  # the handle was dropped...
    usb_printer.printer.wait_for_tickets(1, timeout=2)  # the slow ticket comes out in the end
    usb_printer.printer.set_delay(0)
    printer.print_bytes(TICKET)  # ...and opened again
    assert len(usb_printer.printer.tickets) == 2
    printer.close()


def test_usb_unplugged_while_in_use(usb_printer: FakeUsbDevice) -> None:
    printer = open_printer("usb:04b8:0e15", timeout=1)
    printer.print_bytes(TICKET)
    usb_printer.printer.inject("disconnected")
    with pytest.raises(PrinterOffline, match="No such device"):
        printer.print_bytes(TICKET)
    assert printer.status() is S.OFFLINE
    printer.close()


# ---------------------------------------------------------------- serial
@pytest.fixture
def pty_printer() -> Iterator[PtySerialPrinter]:
    with PtySerialPrinter(VirtualPrinter("serial")) as device:
        yield device


def test_serial_over_a_real_tty(pty_printer: PtySerialPrinter) -> None:
    printer = open_printer(f"serial:{pty_printer.path}?baudrate=19200", timeout=2)
    try:
        assert printer.status() is S.OK
        printer.print_bytes(TICKET)
        (ticket,) = pty_printer.printer.wait_for_tickets(1, timeout=2)
        assert ticket.data == TICKET
        assert printer._serial.baudrate == 19200  # type: ignore[attr-defined]
        pty_printer.printer.inject("paper_out")
        assert printer.status() is S.PAPER_OUT
    finally:
        printer.close()


def test_serial_silent_printer_times_out(pty_printer: PtySerialPrinter) -> None:
    pty_printer.printer.inject("silent")
    with open_printer(f"serial:{pty_printer.path}", timeout=FAST) as printer:
        _, took = raises_within(PrinterTimeout, printer.status)
    assert FAST * 0.9 <= took < FAST + 0.5


def test_serial_port_missing() -> None:
    printer = open_printer("serial:/dev/antre-no-such-tty", timeout=1)
    assert printer.status() is S.OFFLINE
    with pytest.raises(PrinterOffline, match="cannot be opened"):
        printer.print_bytes(TICKET)


# ------------------------------------------------------------------ CUPS
def fake_program(bindir: Path, name: str, body: str) -> None:
    path = bindir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bindir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with nothing but what a test puts there."""
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    return path


def test_cups_without_lp_is_a_clear_offline(bindir: Path) -> None:
    printer = open_printer("cups:Kiosk_1", timeout=1)
    with pytest.raises(PrinterOffline, match="'lp' is not installed"):
        printer.print_bytes(TICKET)
    assert printer.status() is S.OFFLINE


def test_cups_raw_job_through_lp(bindir: Path, tmp_path: Path) -> None:
    args, job = tmp_path / "args", tmp_path / "job"
    fake_program(bindir, "lp", f'echo "$@" > {args}\nexec /bin/cat > {job}\n')
    open_printer("cups:Kiosk_1?host=cups.local", timeout=2).print_bytes(TICKET)
    assert args.read_text().split() == ["-h", "cups.local", "-d", "Kiosk_1", "-o", "raw", "-t", "antre-ticket"]
    assert job.read_bytes() == TICKET


@pytest.mark.parametrize(
    ("stderr", "error"),
    [
        ("lp: The printer or class does not exist.", PrinterOffline),
        ('lp: Destination \\"Kiosk_1\\" is not accepting jobs.', PrinterOffline),
        ("lp: Error - unsupported document-format", PrinterError),
    ],
)
def test_cups_lp_failures(bindir: Path, stderr: str, error: type[PrinterError]) -> None:
    fake_program(bindir, "lp", f'/bin/cat > /dev/null\necho "{stderr}" >&2\nexit 1\n')
    with pytest.raises(error, match="Kiosk_1") as info:
        open_printer("cups:Kiosk_1", timeout=2).print_bytes(TICKET)
    assert type(info.value) is error


def test_cups_lp_that_hangs_is_a_timeout(bindir: Path) -> None:
    fake_program(bindir, "lp", "exec /bin/sleep 30\n")
    _, took = raises_within(PrinterTimeout, lambda: open_printer("cups:Kiosk_1", timeout=FAST).print_bytes(TICKET))
    assert took < FAST + 1


def test_cups_status_through_lpstat(bindir: Path, tmp_path: Path) -> None:
    args = tmp_path / "args"
    fake_program(bindir, "lpstat", f'echo "$@" > {args}\necho "printer Kiosk_1 is idle.  enabled since Mon"\n')
    assert open_printer("cups:Kiosk_1", timeout=2).status() is S.OK
    assert args.read_text().split() == ["-l", "-p", "Kiosk_1"]
    fake_program(bindir, "lpstat", 'echo "lpstat: Invalid destination name in list \\"Kiosk_1\\"." >&2\nexit 1\n')
    assert open_printer("cups:Kiosk_1", timeout=2).status() is S.OFFLINE


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("printer Kiosk is idle.  enabled since Mon 23 Nov 2026 08:00:00\n", S.OK),
        ("printer Kiosk now printing Kiosk-12.  enabled since Mon\n", S.OK),
        ("printer Kiosk disabled since Mon 23 Nov 2026 -\n\treason unknown\n", S.OFFLINE),
        ("printer Kiosk is idle.  enabled since Mon\n\tWaiting for printer to become available.\n", S.OFFLINE),
        ("printer Kiosk is idle.  enabled since Mon\n\tAlerts: media-empty-error\n", S.PAPER_OUT),
        ("printer Kiosk disabled since Mon -\n\tMedia empty: out of paper\n", S.PAPER_OUT),
        ("printer Kiosk is idle.  enabled since Mon\n\tAlerts: media-low-report\n", S.PAPER_LOW),
        ("", S.UNKNOWN),
        ("something else entirely\n", S.UNKNOWN),
    ],
)
def test_parse_lpstat(output: str, expected: PrinterStatus) -> None:
    assert parse_lpstat(output) is expected


def test_parse_lpstat_failure_is_offline() -> None:
    assert parse_lpstat("", returncode=1) is S.OFFLINE


def test_cups_status_does_not_hang(bindir: Path) -> None:
    fake_program(bindir, "lpstat", "exec /bin/sleep 30\n")
    _, took = raises_within(PrinterTimeout, open_printer("cups:Kiosk_1", timeout=FAST).status)
    assert took < FAST + 1
