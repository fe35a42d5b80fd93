"""The emulated printer: real status bytes, tickets, faults, registry, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from escpos.escpos import Escpos

from printing.backends import open_printer
from printing.status import DLE_EOT_PAPER, DLE_EOT_PRINTER, PrinterStatus
from printing.ticket import render_ticket
from printing.virtual import (
    VirtualPrinter,
    get_virtual_printer,
    remove_virtual_printer,
    virtual_printer_names,
)
from tests.printing_support.tickets import make_ticket

TICKET = render_ticket(make_ticket(), 58)


@pytest.fixture
def vp(request: pytest.FixtureRequest) -> Iterator[VirtualPrinter]:
    name = f"t-{request.node.name}"[:60].replace("[", "-").replace("]", "")
    printer = get_virtual_printer(name)
    yield printer
    remove_virtual_printer(name)


@pytest.mark.parametrize(
    ("state", "eot1", "eot2", "eot3", "eot4", "gs_r1"),
    [
        ("ok", 0x12, 0x12, 0x12, 0x12, 0x00),
        ("low", 0x12, 0x12, 0x12, 0x1E, 0x03),
        ("out", 0x1A, 0x32, 0x12, 0x7E, 0x0F),
        ("cover", 0x1A, 0x16, 0x12, 0x12, 0x00),
    ],
)
def test_real_status_bit_patterns(state: str, eot1: int, eot2: int, eot3: int, eot4: int, gs_r1: int) -> None:
    """What a TM-T88 answers (fixed bits 1 and 4 set in every DLE EOT reply)."""
    vp = VirtualPrinter()
    if state == "cover":
        vp.set_online(False)
    else:
        vp.set_paper(state)
    vp.write(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04\x1dr\x01\x1dr1")
    assert vp.read(16, timeout=0.5) == bytes([eot1, eot2, eot3, eot4, gs_r1, gs_r1])
    assert vp.status_queries == 6


class _EscposOnVirtual(Escpos):
    """python-escpos' own status helpers, talking to the emulation."""

    def __init__(self, device: VirtualPrinter) -> None:
        super().__init__()
        self.vdevice = device

    def _raw(self, msg: bytes) -> None:
        self.vdevice.write(msg)

    def _read(self) -> bytes:
        return self.vdevice.read(16, timeout=0.5)


def test_python_escpos_understands_the_emulation() -> None:
    vp = VirtualPrinter()
    client = _EscposOnVirtual(vp)
    assert client.is_online() is True and client.paper_status() == 2
    vp.set_paper("low")
    assert client.paper_status() == 1
    vp.set_paper("out")
    assert client.is_online() is False and client.paper_status() == 0


def test_tickets_are_cut_at_each_cut(vp: VirtualPrinter) -> None:
    second = render_ticket(make_ticket(number="A013"), 58)
    vp.write(TICKET + second)
    vp.write(b"no cut yet\n")
    tickets = vp.tickets
    assert [t.data for t in tickets] == [TICKET, second]
    assert [t.decoded.find("A01").text for t in tickets] == ["A012", "A013"]  # type: ignore[union-attr]
    assert tickets[0].decoded.qr_codes[0].text == "http://antre.local/t/8f3a2c91"
    assert vp.pending_text == "no cut yet"


def test_data_split_anywhere_prints_the_same_ticket(vp: VirtualPrinter) -> None:
    for i in range(0, len(TICKET), 7):
        vp.write(TICKET[i : i + 7])
    (ticket,) = vp.tickets
    assert ticket.data == TICKET


def test_status_queries_are_answered_not_printed(vp: VirtualPrinter) -> None:
    vp.write(TICKET[:100] + DLE_EOT_PRINTER + TICKET[100:])
    assert vp.read(timeout=0.1) == b"\x12"
    (ticket,) = vp.tickets
    assert ticket.data == TICKET  # the query is not part of the ticket


def test_paper_out_holds_data_until_refilled(vp: VirtualPrinter) -> None:
    vp.inject("paper_out")
    vp.write(TICKET)
    assert vp.tickets == [] and vp.held_bytes == len(TICKET)
    vp.write(DLE_EOT_PAPER)  # real-time: answered while printing is stopped
    assert vp.read(timeout=0.1) == b"\x7e"
    vp.set_paper("ok")
    assert [t.data for t in vp.tickets] == [TICKET] and vp.held_bytes == 0


def test_cover_open_holds_data_until_closed(vp: VirtualPrinter) -> None:
    vp.inject("offline")
    vp.write(TICKET)
    assert vp.tickets == [] and vp.printing_blocked
    vp.set_online(True)
    assert len(vp.tickets) == 1


def test_paper_runs_out_in_the_middle_of_a_ticket(vp: VirtualPrinter) -> None:
    vp.set_paper_remaining(lines=8, near_end=4)
    vp.write(TICKET)
    assert vp.faults["paper"] == "out" and vp.tickets == []
    assert 0 < vp.held_bytes < len(TICKET)
    assert vp.pending_text.startswith("MPP Kota Bandung")  # the top half is on paper
    vp.set_paper("ok")
    (ticket,) = vp.tickets
    assert ticket.data == TICKET


def test_near_end_sensor_trips_before_the_end(vp: VirtualPrinter) -> None:
    vp.set_paper_remaining(lines=60, near_end=40)
    vp.write(TICKET)
    assert len(vp.tickets) == 1 and vp.faults["paper"] == "low"


def test_silent_printer_answers_nothing(vp: VirtualPrinter) -> None:
    vp.inject("silent")
    vp.write(DLE_EOT_PRINTER)
    start = time.monotonic()
    assert vp.read(timeout=0.2) == b""
    assert 0.15 < time.monotonic() - start < 1
    assert vp.status_queries == 1


def test_slow_printer_takes_its_time(vp: VirtualPrinter) -> None:
    vp.inject("slow", delay=0.3)
    start = time.monotonic()
    vp.write(TICKET)
    assert time.monotonic() - start >= 0.29
    assert len(vp.tickets) == 1


def test_slow_printer_write_timeout_and_the_ticket_still_comes(vp: VirtualPrinter) -> None:
    vp.set_delay(0.4)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        vp.write(TICKET, timeout=0.1)
    assert time.monotonic() - start < 0.3
    vp.write(DLE_EOT_PRINTER)  # real-time status while it prints
    assert vp.read(timeout=0.05) == b"\x12"
    assert vp.tickets == []
    assert len(vp.wait_for_tickets(1, timeout=2)) == 1


def test_jobs_queue_behind_a_slow_ticket(vp: VirtualPrinter) -> None:
    vp.set_delay(0.2)
    done: list[float] = []
    start = time.monotonic()

    def job() -> None:
        vp.write(TICKET)
        done.append(time.monotonic() - start)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done)[1] >= 0.39  # one mechanism: the second ticket waits for the first


def test_disconnected_printer(vp: VirtualPrinter) -> None:
    vp.inject("disconnected")
    with pytest.raises(ConnectionError):
        vp.write(TICKET)
    with pytest.raises(ConnectionError):
        vp.read(timeout=0.1)
    vp.clear_faults()
    vp.write(TICKET)
    assert len(vp.tickets) == 1


def test_wait_for_tickets_times_out(vp: VirtualPrinter) -> None:
    with pytest.raises(TimeoutError, match="0 of 1"):
        vp.wait_for_tickets(1, timeout=0.1)


def test_unknown_fault_name(vp: VirtualPrinter) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        vp.inject("on_fire")


def test_reset(vp: VirtualPrinter) -> None:
    vp.inject("paper_out")
    vp.write(TICKET)
    vp.reset()
    assert vp.tickets == [] and vp.held_bytes == 0 and vp.faults["paper"] == "ok"


def test_registry_gives_the_same_device_to_every_handle() -> None:
    a = get_virtual_printer("kiosk-7")
    try:
        assert get_virtual_printer("kiosk-7") is a and "kiosk-7" in virtual_printer_names()
        server_side = open_printer("virtual:kiosk-7", timeout=0.5)
        admin_side = open_printer("virtual:kiosk-7", timeout=0.5)
        assert server_side.device is a and admin_side.device is a  # type: ignore[attr-defined]
        a.inject("paper_out")  # e.g. from a test or an admin page
        assert server_side.status() is PrinterStatus.PAPER_OUT
        a.clear_faults()
        server_side.print_bytes(TICKET)
        assert len(a.tickets) == 1
        assert get_virtual_printer("other") is not a
    finally:
        remove_virtual_printer("kiosk-7")
        remove_virtual_printer("other")


def test_many_threads_at_once(vp: VirtualPrinter) -> None:
    """Writers, status readers and fault injection in parallel: no ticket torn or lost."""
    tickets = [render_ticket(make_ticket(number=f"T{i:03d}"), 58) for i in range(8)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(data: bytes) -> None:
        try:
            for _ in range(15):
                vp.write(data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def prober() -> None:
        while not stop.is_set():
            vp.status_byte("DLE EOT", 4)
            vp.write(DLE_EOT_PRINTER)
            vp.drain_replies()

    def meddler() -> None:
        while not stop.is_set():
            vp.set_paper("out")
            vp.set_paper("ok")

    helpers = [threading.Thread(target=prober), threading.Thread(target=meddler)]
    writers = [threading.Thread(target=writer, args=(t,)) for t in tickets]
    for t in helpers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in helpers:
        t.join()
    vp.set_paper("ok")
    assert errors == []
    printed = vp.tickets
    assert len(printed) == 8 * 15
    assert all(t.data in tickets for t in printed)  # each one whole, none interleaved
    for data in tickets:
        assert sum(t.data == data for t in printed) == 15
