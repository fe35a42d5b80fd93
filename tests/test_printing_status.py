"""Status replies -> PrinterStatus, and the query sequence."""

from __future__ import annotations

import pytest
from escpos.constants import RT_MASK_LOWPAPER, RT_MASK_NOPAPER, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos

from printing.status import (
    DLE_EOT_OFFLINE_CAUSE,
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    PrinterStatus,
    PrinterTimeout,
    StatusReplies,
    parse_replies,
    parse_status,
    query_status,
)
from printing.virtual import VirtualPrinter

S = PrinterStatus
ONLINE, OFFLINE_BYTE = b"\x12", b"\x1a"  # DLE EOT 1
PAPER_OK, NEAR_END, PAPER_END = b"\x12", b"\x1e", b"\x7e"  # DLE EOT 4 (paper end also trips near-end)
COVER_OPEN, PAPER_END_STOP = b"\x16", b"\x32"  # DLE EOT 2


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "gs_r", "expected"),
    [
        # nothing, or nothing useful: never OK
        (None, None, None, None, S.UNKNOWN),
        (b"", None, None, None, S.UNKNOWN),
        (b"", None, PAPER_OK, None, S.UNKNOWN),  # empty reply to DLE EOT 1 is not "online"
        (b"\x00", None, PAPER_OK, None, S.UNKNOWN),  # fixed bits missing: not a status byte
        (b"\xff", None, None, None, S.UNKNOWN),
        (None, None, PAPER_OK, None, S.UNKNOWN),  # paper fine, but online state unknown
        # healthy
        (ONLINE, None, None, None, S.OK),
        (ONLINE, None, PAPER_OK, None, S.OK),
        (ONLINE, None, b"", None, S.OK),  # empty paper reply: judged on DLE EOT 1
        (ONLINE, None, None, b"\x00", S.OK),
        # near end
        (ONLINE, None, NEAR_END, None, S.PAPER_LOW),
        (ONLINE, None, b"\x16", None, S.PAPER_LOW),  # one near-end bit
        (ONLINE, None, None, b"\x03", S.PAPER_LOW),
        # out of paper: the printer also says "offline" to DLE EOT 1
        (OFFLINE_BYTE, None, PAPER_END, None, S.PAPER_OUT),
        (OFFLINE_BYTE, None, b"\x72", None, S.PAPER_OUT),
        (OFFLINE_BYTE, PAPER_END_STOP, PAPER_OK, None, S.PAPER_OUT),
        (OFFLINE_BYTE, None, None, b"\x0f", S.PAPER_OUT),
        (None, None, PAPER_END, None, S.PAPER_OUT),  # paper sensor alone is enough for "out"
        # offline for another reason
        (OFFLINE_BYTE, None, PAPER_OK, None, S.OFFLINE),
        (OFFLINE_BYTE, COVER_OPEN, PAPER_OK, None, S.OFFLINE),
        (OFFLINE_BYTE, None, None, None, S.OFFLINE),
        (OFFLINE_BYTE, None, b"", None, S.OFFLINE),
        (OFFLINE_BYTE, None, NEAR_END, None, S.OFFLINE),
        # a stale byte in front of the answer: the last byte counts
        (OFFLINE_BYTE + ONLINE, None, PAPER_OK, None, S.OK),
    ],
)
def test_parse_status_table(
    printer: bytes | None, cause: bytes | None, paper: bytes | None, gs_r: bytes | None, expected: PrinterStatus
) -> None:
    assert parse_status(printer, offline_cause=cause, paper=paper, paper_gs_r=gs_r) is expected
    replies = StatusReplies(printer=printer, offline_cause=cause, paper=paper, paper_gs_r=gs_r)
    assert parse_replies(replies) is expected


def test_status_is_a_str_enum_with_the_agreed_values() -> None:
    assert [s.value for s in PrinterStatus] == ["ok", "paper_low", "paper_out", "offline", "unknown"]
    assert PrinterStatus("paper_out") is PrinterStatus.PAPER_OUT and PrinterStatus.OK == "ok"


def test_python_escpos_masks_agree() -> None:
    """python-escpos' own masks for "no paper" and "low paper" parse the same way here."""
    assert parse_status(OFFLINE_BYTE, paper=bytes([RT_MASK_NOPAPER])) is S.PAPER_OUT
    assert parse_status(ONLINE, paper=bytes([RT_MASK_LOWPAPER])) is S.PAPER_LOW


class _SilentEscpos(Escpos):
    """A python-escpos printer whose status reads come back empty."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def _raw(self, msg: bytes) -> None:
        self.sent.append(msg)

    def _read(self) -> bytes:
        return b""


def test_the_empty_reply_trap() -> None:
    """python-escpos says "paper adequate" (2) to an empty reply; Antre says UNKNOWN."""
    p = _SilentEscpos()
    assert p.paper_status() == 2
    assert p.sent == [RT_STATUS_PAPER]
    assert parse_status(b"", paper=b"") is S.UNKNOWN
    assert p.is_online() is False and p.sent[-1] == RT_STATUS_ONLINE


class ScriptedPrinter:
    """A transact function answering from a script (None: no answer in time)."""

    def __init__(self, answers: dict[bytes, bytes | None]) -> None:
        self.answers = answers
        self.asked: list[bytes] = []

    def __call__(self, cmd: bytes, left: float) -> bytes:
        assert left >= 0
        self.asked.append(cmd)
        answer = self.answers.get(cmd)
        if answer is None:
            raise PrinterTimeout("no answer")
        return answer


def test_query_healthy_printer_asks_two_questions() -> None:
    printer = ScriptedPrinter({DLE_EOT_PRINTER: ONLINE, DLE_EOT_PAPER: PAPER_OK})
    status, replies = query_status(printer, 1.0)
    assert status is S.OK and printer.asked == [DLE_EOT_PRINTER, DLE_EOT_PAPER]
    assert replies == StatusReplies(printer=ONLINE, paper=PAPER_OK)


def test_query_offline_printer_asks_why() -> None:
    printer = ScriptedPrinter(
        {DLE_EOT_PRINTER: OFFLINE_BYTE, DLE_EOT_PAPER: PAPER_OK, DLE_EOT_OFFLINE_CAUSE: COVER_OPEN}
    )
    status, _ = query_status(printer, 1.0)
    assert status is S.OFFLINE
    assert printer.asked == [DLE_EOT_PRINTER, DLE_EOT_PAPER, DLE_EOT_OFFLINE_CAUSE]


def test_query_paper_out_reported_as_offline() -> None:
    printer = ScriptedPrinter({DLE_EOT_PRINTER: OFFLINE_BYTE, DLE_EOT_PAPER: PAPER_END})
    status, _ = query_status(printer, 1.0)
    assert status is S.PAPER_OUT
    assert printer.asked == [DLE_EOT_PRINTER, DLE_EOT_PAPER]  # the sensor explained it


def test_query_silent_printer_times_out() -> None:
    with pytest.raises(PrinterTimeout):
        query_status(ScriptedPrinter({}), 0.5)


def test_query_empty_first_reply_is_unknown_and_stops() -> None:
    printer = ScriptedPrinter({DLE_EOT_PRINTER: b"", DLE_EOT_PAPER: PAPER_OK})
    status, _ = query_status(printer, 1.0)
    assert status is S.UNKNOWN and printer.asked == [DLE_EOT_PRINTER]


def test_query_clone_that_only_knows_dle_eot_1() -> None:
    printer = ScriptedPrinter({DLE_EOT_PRINTER: ONLINE})
    status, replies = query_status(printer, 1.0)
    assert status is S.OK and replies.paper is None


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, S.OK),
        (lambda p: p.set_paper("low"), S.PAPER_LOW),
        (lambda p: p.set_paper("out"), S.PAPER_OUT),
        (lambda p: p.set_online(False), S.OFFLINE),
    ],
)
def test_virtual_printer_bytes_parse_back(setup: object, expected: PrinterStatus) -> None:
    vp = VirtualPrinter("status-table")
    setup(vp)  # type: ignore[operator]
    eot = {n: bytes([vp.status_byte("DLE EOT", n) or 0]) for n in (1, 2, 4)}
    gs_r = bytes([vp.status_byte("GS r", 1) or 0])
    assert parse_status(eot[1], offline_cause=eot[2], paper=eot[4]) is expected
    assert parse_status(eot[1], paper_gs_r=gs_r) is expected
