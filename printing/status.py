"""Printer status: the states Antre acts on, the errors, and ESC/POS status parsing.

An Epson-style thermal printer answers real-time status queries with one byte
each.  The replies used here (ESC/POS Application Programming Guide, "DLE EOT"
and "GS r"):

``DLE EOT 1`` printer status
    fixed bits: bit 1 = 1, bit 4 = 1, bits 0 and 7 = 0; bit 3 = offline.
``DLE EOT 2`` offline cause
    bit 2 = cover open, bit 3 = paper fed by the FEED button,
    bit 5 = printing stopped because the paper ran out, bit 6 = error.
``DLE EOT 4`` roll paper sensor
    bits 2-3 = paper near end, bits 5-6 = paper end.
``GS r 1`` paper sensor (the older command)
    fixed bits: 4 and 7 = 0; bits 0-1 = near end, bits 2-3 = paper end.

Two traps (see PITFALLS.md): an *empty* reply says nothing and must never be
read as "paper OK" (python-escpos' ``paper_status()`` does exactly that), and a
printer that is out of paper also reports itself *offline* to ``DLE EOT 1``, so
the paper sensor has to be read as well before calling the printer offline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "DLE_EOT_OFFLINE_CAUSE",
    "DLE_EOT_PAPER",
    "DLE_EOT_PRINTER",
    "GS_R_PAPER",
    "PaperOut",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTimeout",
    "StatusReplies",
    "parse_status",
    "query_status",
]


class PrinterStatus(str, Enum):  # noqa: UP042 - the interface Antre agreed on
    """What Antre needs to know about a printer before and after a job."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class PrinterError(Exception):
    """A print or status call failed."""


class PaperOut(PrinterError):
    """The printer is out of paper."""


class PrinterOffline(PrinterError):
    """The printer cannot be reached or is offline (unplugged, off, cover open)."""


class PrinterTimeout(PrinterError):
    """The printer was reached but did not answer or accept data in time."""


DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
DLE_EOT_ERROR_CAUSE = b"\x10\x04\x03"
DLE_EOT_PAPER = b"\x10\x04\x04"
GS_R_PAPER = b"\x1d\x72\x01"

# DLE EOT replies: bits 1 and 4 set, bits 0 and 7 clear.
_DLE_EOT_FIXED_MASK = 0x93
_DLE_EOT_FIXED_VALUE = 0x12
_EOT1_OFFLINE = 0x08
_EOT2_COVER_OPEN = 0x04
_EOT2_PAPER_END_STOP = 0x20
_EOT2_ERROR = 0x40
_EOT4_NEAR_END = 0x0C
_EOT4_PAPER_END = 0x60
# GS r 1 replies: bits 4 and 7 clear.
_GSR_FIXED_MASK = 0x90
_GSR_NEAR_END = 0x03
_GSR_PAPER_END = 0x0C


@dataclass(frozen=True)
class StatusReplies:
    """Raw replies to the status queries; ``None`` where a query was not asked.

    An empty ``bytes`` means the query was asked and nothing came back.
    """

    printer: bytes | None = None
    offline_cause: bytes | None = None
    paper: bytes | None = None
    paper_gs_r: bytes | None = None


def _dle_eot_byte(reply: bytes | None) -> int | None:
    """The status byte of a DLE EOT reply, or None if the reply is missing or malformed.

    When several bytes arrived (a late reply to an earlier query, say) the last
    one is the answer to the latest query.
    """
    if not reply:
        return None
    value = reply[-1]
    if value & _DLE_EOT_FIXED_MASK != _DLE_EOT_FIXED_VALUE:
        return None
    return value


def _gs_r_byte(reply: bytes | None) -> int | None:
    if not reply:
        return None
    value = reply[-1]
    if value & _GSR_FIXED_MASK:
        return None
    return value


def parse_status(
    printer: bytes | None = None,
    *,
    offline_cause: bytes | None = None,
    paper: bytes | None = None,
    paper_gs_r: bytes | None = None,
) -> PrinterStatus:
    """Turn real-time status replies into a :class:`PrinterStatus`.

    ``printer`` is the reply to ``DLE EOT 1``, ``offline_cause`` to ``DLE EOT 2``,
    ``paper`` to ``DLE EOT 4`` and ``paper_gs_r`` to ``GS r 1``.

    * Any source that says the paper has run out wins: ``PAPER_OUT``.
    * Without a valid ``DLE EOT 1`` byte nothing else can be concluded: ``UNKNOWN``
      (an empty reply is never "OK").
    * Offline (cover open, error, or paper out not confirmed by a sensor): ``OFFLINE``.
    * Online with the near-end sensor set: ``PAPER_LOW``; otherwise ``OK``.
    """
    eot1 = _dle_eot_byte(printer)
    eot2 = _dle_eot_byte(offline_cause)
    eot4 = _dle_eot_byte(paper)
    gsr1 = _gs_r_byte(paper_gs_r)

    paper_end = (
        (eot4 is not None and eot4 & _EOT4_PAPER_END != 0)
        or (gsr1 is not None and gsr1 & _GSR_PAPER_END != 0)
        or (eot2 is not None and eot2 & _EOT2_PAPER_END_STOP != 0)
    )
    if paper_end:
        return PrinterStatus.PAPER_OUT
    if eot1 is None:
        return PrinterStatus.UNKNOWN
    if eot1 & _EOT1_OFFLINE:
        return PrinterStatus.OFFLINE
    near_end = (eot4 is not None and eot4 & _EOT4_NEAR_END != 0) or (gsr1 is not None and gsr1 & _GSR_NEAR_END != 0)
    if near_end:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK


def parse_replies(replies: StatusReplies) -> PrinterStatus:
    """:func:`parse_status` for a :class:`StatusReplies`."""
    return parse_status(
        replies.printer,
        offline_cause=replies.offline_cause,
        paper=replies.paper,
        paper_gs_r=replies.paper_gs_r,
    )


Transact = Callable[[bytes, float], bytes]
"""Send a query and return the reply (``b""`` if the line closed without one).

The second argument is the time left, in seconds.  Raises
:class:`PrinterTimeout` when no reply arrives in that time.
"""


def query_status(transact: Transact, timeout: float) -> tuple[PrinterStatus, StatusReplies]:
    """Ask a printer for its status through ``transact``, within ``timeout`` seconds in all.

    ``DLE EOT 1`` first: no answer to it raises :class:`PrinterTimeout` (the
    printer is silent), an empty or malformed answer gives ``UNKNOWN``.  Then the
    paper sensor (``DLE EOT 4``) and, when the printer says it is offline and
    the sensor does not explain why, the offline cause (``DLE EOT 2``).  A
    printer that answers the first query but not the later ones (some clones
    only know ``DLE EOT 1``) is judged on what it did answer.
    """
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.0, deadline - time.monotonic())

    printer = transact(DLE_EOT_PRINTER, left())
    replies = StatusReplies(printer=printer)
    if _dle_eot_byte(printer) is None:
        return parse_replies(replies), replies
    try:
        paper = transact(DLE_EOT_PAPER, left())
    except PrinterTimeout:
        paper = None
    replies = StatusReplies(printer=printer, paper=paper)
    status = parse_replies(replies)
    if status is PrinterStatus.OFFLINE and paper is not None:
        try:
            cause = transact(DLE_EOT_OFFLINE_CAUSE, left())
        except PrinterTimeout:
            cause = None
        replies = StatusReplies(printer=printer, paper=paper, offline_cause=cause)
        status = parse_replies(replies)
    return status, replies
