"""The queue ticket: its content and its rendering into ESC/POS bytes.

Rendering goes through python-escpos 3.1 (``escpos.printer.Dummy``) with a
printer profile that knows the paper: 58 mm paper is 384 dots, 32 columns of
font A; 80 mm paper is 576 dots, 48 columns.  Everything is laid out in printer
text mode (the number too, enlarged with ``GS !``) and the QR code is the
printer's own (``GS ( k``), so a ticket is well under a kilobyte and prints at
once.

Text is first reduced to what the printer's code page can print (CP437 by
default, the one every ESC/POS printer has): accents the page lacks are
dropped ("Ş" -> "S"), typographic quotes and dashes become ASCII, control
characters are removed (a name must never smuggle an ESC/POS command in), and
anything else becomes "?".  Each character then takes exactly one column, which
is what makes the column arithmetic of the layout exact.
"""

from __future__ import annotations

import copy
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import qrcode
from escpos.capabilities import Profile, get_profile_class
from escpos.constants import QR_ECLEVEL_M, QR_MODEL_2
from escpos.printer import Dummy
from qrcode.exceptions import DataOverflowError

__all__ = [
    "CODE_PAGES",
    "PAPER",
    "PaperSpec",
    "TicketPrint",
    "format_eta",
    "format_issued_at",
    "printable_text",
    "render_ticket",
]

LANGS = ("id", "en")


@dataclass(frozen=True)
class PaperSpec:
    """Geometry of a paper width (font A is 12 dots wide, font B 9)."""

    mm: int
    columns: int
    dots: int
    number_scale: int  # largest magnification used for the ticket number
    qr_max_module: int  # largest QR module size, in dots


PAPER: dict[int, PaperSpec] = {
    58: PaperSpec(mm=58, columns=32, dots=384, number_scale=4, qr_max_module=6),
    80: PaperSpec(mm=80, columns=48, dots=576, number_scale=5, qr_max_module=8),
}

# ESC t numbers of the code pages the renderer can target (Epson's standard table).
CODE_PAGES: dict[str, int] = {"CP437": 0, "CP850": 2, "CP1252": 16, "CP852": 18, "CP858": 19}


@dataclass
class TicketPrint:
    """Everything printed on one queue ticket.

    ``issued_at`` must be time-zone aware; it is printed in its own zone (WIB,
    WITA or WIT by its UTC offset) unless ``time_zone`` names the MPP's zone
    (e.g. ``"Asia/Makassar"``), in which case it is converted to that zone first.
    """

    mpp_name: str
    tenant_name: str
    service_name: str
    number: str
    people_ahead: int
    eta_minutes: int | None
    issued_at: datetime
    counters: list[str]
    track_url: str
    footer: str = ""
    lang: str = "id"
    priority: bool = False
    time_zone: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError when a field cannot be printed."""
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, not {self.lang!r}")
        if not self.number or not self.number.strip():
            raise ValueError("number must not be empty")
        if self.people_ahead < 0:
            raise ValueError(f"people_ahead must be >= 0, not {self.people_ahead}")
        if self.eta_minutes is not None and self.eta_minutes < 0:
            raise ValueError(f"eta_minutes must be >= 0 or None, not {self.eta_minutes}")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be time-zone aware (the MPP's local time)")
        if self.time_zone is not None:
            ZoneInfo(self.time_zone)  # raises ZoneInfoNotFoundError (a KeyError) if unknown


_TEXT: dict[str, dict[str, str]] = {
    "id": {
        "number": "NOMOR ANTRIAN",
        "priority": "PRIORITAS",
        "ahead": "Jumlah antrian di depan Anda:",
        "eta": "Perkiraan waktu tunggu:",
        "counters": "Dilayani di:",
        "scan": "Pindai untuk memantau antrian",
    },
    "en": {
        "number": "QUEUE NUMBER",
        "priority": "PRIORITY",
        "ahead": "People ahead of you:",
        "eta": "Estimated wait:",
        "counters": "Served at:",
        "scan": "Scan to track your queue",
    },
}

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip
# Indonesia's three zones.
_ZONE_NAMES = {timedelta(hours=7): "WIB", timedelta(hours=8): "WITA", timedelta(hours=9): "WIT"}


def format_eta(minutes: int | None, lang: str = "id") -> str:
    """A wait in words: "15 menit", "1 jam 5 menit", "less than 1 minute"."""
    if minutes is None:
        return "belum dapat diperkirakan" if lang == "id" else "not available yet"
    if minutes < 1:
        return "kurang dari 1 menit" if lang == "id" else "less than 1 minute"
    hours, mins = divmod(minutes, 60)
    if lang == "id":
        parts = ([f"{hours} jam"] if hours else []) + ([f"{mins} menit"] if mins else [])
    else:
        parts = ([f"{hours} hour" + ("s" if hours != 1 else "")] if hours else []) + (
            [f"{mins} minute" + ("s" if mins != 1 else "")] if mins else []
        )
    return " ".join(parts)


def _zone_label(dt: datetime) -> str:
    offset = dt.utcoffset() or timedelta(0)
    if offset in _ZONE_NAMES:
        return _ZONE_NAMES[offset]
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    total = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{total // 60:02d}:{total % 60:02d}"


def format_issued_at(dt: datetime, lang: str = "id", time_zone: str | None = None) -> tuple[str, str]:
    """("Senin, 23 November 2026", "08:15 WIB") for a tz-aware datetime."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("issued_at must be time-zone aware")
    if time_zone:
        dt = dt.astimezone(ZoneInfo(time_zone))
    date = f"{_DAYS[lang][dt.weekday()]}, {dt.day} {_MONTHS[lang][dt.month - 1]} {dt.year}"
    return date, f"{dt:%H:%M} {_zone_label(dt)}"


_FALLBACKS = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00b7": ".", "\u20ac": "EUR", "\u2122": "TM",
}  # fmt: skip


_LINE_SPACE = frozenset("\t\n\r\x0b\x0c\x85")


@lru_cache(maxsize=8)
def _printable_set(code_page: str) -> frozenset[str]:
    codec = code_page.lower()
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for byte in range(0x80, 0x100):
        try:
            ch = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            continue
        if unicodedata.category(ch)[0] not in "CZ" or ch == " ":
            chars.add(ch)
    return frozenset(chars)


def printable_text(text: str, code_page: str = "CP437") -> str:
    """``text`` reduced to characters ``code_page`` can print, one column each.

    Whitespace runs (including newlines) collapse to one space.
    """
    allowed = _printable_set(code_page)
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in allowed:
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if ch in _LINE_SPACE or category[0] == "Z":
            out.append(" ")
            continue
        if category in ("Cc", "Cf") or category[0] == "M":
            # Control characters (Python calls \x1c-\x1f "space": not here),
            # format characters, stray combining marks.
            continue
        fallback = _FALLBACKS.get(ch)
        if fallback and all(c in allowed for c in fallback):
            out.append(fallback)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and all(c in allowed for c in base):
            out.append(base)
            continue
        out.append("?")
    return " ".join("".join(out).split())


def _wrap(text: str, width: int) -> list[str]:
    """Wrap at spaces only ("KTP-el" stays whole); a word longer than the line is split."""
    if not text:
        return []
    return textwrap.wrap(text, width=max(1, width), break_long_words=True, break_on_hyphens=False)


@lru_cache(maxsize=16)
def _profile(paper: PaperSpec, code_page: str) -> Profile:
    """A python-escpos profile that knows the paper width, fonts and code page.

    Made once per paper and code page (python-escpos only reads it): the deep
    copy of the default profile was a fifth of a ticket's rendering time.
    """
    data = copy.deepcopy(get_profile_class("default").profile_data)
    data["name"] = f"Antre {paper.mm} mm"
    data["media"] = {"dpi": 203, "width": {"mm": paper.mm, "pixels": paper.dots}}
    data["fonts"] = {
        "0": {"name": "Font A", "columns": paper.columns},
        "1": {"name": "Font B", "columns": paper.dots // 9},
    }
    data["codePages"] = {str(CODE_PAGES[code_page]): code_page}
    profile = Profile(columns=paper.columns, features=dict(data["features"]))
    profile.profile_data = data
    return profile


#: QR version by the (mode, length) of each data segment: all the version depends on
_QR_VERSIONS: dict[tuple[tuple[int, int], ...], int] = {}


def _qr_module_size(payload: bytes, paper: PaperSpec) -> int:
    """Largest module size (dots) at which the QR code and its quiet zone fit the paper."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(payload)
    # Every ticket's tracking URL has the same shape, so its version is looked up, not refitted
    # bit by bit (a quarter of a ticket's rendering time).
    segments = tuple((data.mode, len(data)) for data in qr.data_list)
    version = _QR_VERSIONS.get(segments)
    if version is None:
        try:
            version = qr.best_fit()  # the version only; make() would also draw and mask it
        except (DataOverflowError, ValueError) as exc:  # qrcode 8.2: "Invalid version (was 41...)"
            raise ValueError(f"track_url is too long for a QR code ({len(payload)} bytes)") from exc
        if len(_QR_VERSIONS) < 1024:
            _QR_VERSIONS[segments] = version
    modules = 17 + 4 * version + 8  # symbol, plus a 4-module quiet zone on each side
    return max(1, min(paper.qr_max_module, paper.dots // modules))


def render_ticket(t: TicketPrint, paper_mm: int = 80, *, code_page: str = "CP437") -> bytes:
    """Render a ticket to ESC/POS bytes for a 58 or 80 mm printer.

    Layout, centred: MPP name (bold), tenant, service, the number enlarged in
    text mode, the PRIORITAS mark, people ahead, estimated wait, date and time,
    counters, a native QR code to ``track_url`` with a caption, the footer,
    then feed and cut.
    """
    if paper_mm not in PAPER:
        raise ValueError(f"paper_mm must be one of {sorted(PAPER)}, not {paper_mm}")
    if code_page not in CODE_PAGES:
        raise ValueError(f"code_page must be one of {sorted(CODE_PAGES)}, not {code_page!r}")
    t.validate()
    paper = PAPER[paper_mm]
    cols = paper.columns
    words = _TEXT[t.lang]

    def clean(text: str) -> str:
        return printable_text(text, code_page)

    p = Dummy(profile=_profile(paper, code_page))
    p.hw("INIT")
    p.charcode(code_page)
    p.set(align="center", normal_textsize=True)

    def lines(text: str, *, bold: bool = False) -> None:
        p.set(bold=bold)
        for line in _wrap(clean(text), cols):
            p.textln(line)

    lines(t.mpp_name, bold=True)
    lines(t.tenant_name)
    lines(t.service_name, bold=True)
    p.set(bold=False)
    p.textln("-" * cols)

    p.textln(words["number"])
    number = clean(t.number) or "?"
    scale = min(paper.number_scale, cols // len(number))
    if scale >= 2:
        p.set(custom_size=True, width=scale, height=scale)
        p.set(bold=True)
        p.textln(number)
    else:
        lines(number, bold=True)
    p.set(normal_textsize=True, bold=False)

    if t.priority:
        mark = f" {words['priority']} "
        p.set(double_width=True, double_height=True, bold=True, invert=True)
        p.textln(mark)
        p.set(normal_textsize=True, bold=False, invert=False)
    p.textln("-" * cols)

    def labelled(key: str, value: str) -> None:
        """ "Label: value" on one line when it fits, else the label above the value."""
        label, value = words[key], clean(value)
        if len(label) + 1 + len(value) <= cols:
            p.textln(f"{label} {value}")
        else:
            lines(label)
            lines(value)

    labelled("ahead", str(t.people_ahead))
    labelled("eta", format_eta(t.eta_minutes, t.lang))
    counters = [c for c in (clean(c) for c in t.counters) if c]
    if counters:
        labelled("counters", ", ".join(counters))
    date, time_of_day = format_issued_at(t.issued_at, t.lang, t.time_zone)
    if len(date) + 1 + len(time_of_day) <= cols:
        p.textln(f"{date} {time_of_day}")
    else:
        lines(date)
        p.textln(time_of_day)

    if t.track_url:
        payload = t.track_url.encode("utf-8")
        size = _qr_module_size(payload, paper)
        p.ln()
        p.set(align="center")
        # center=True raises NotImplementedError for native QR: alignment is set above.
        p.qr(t.track_url, ec=QR_ECLEVEL_M, size=size, model=QR_MODEL_2, native=True)
        lines(words["scan"])

    if t.footer.strip():
        p.ln()
        # Only real line breaks: str.splitlines() also splits at \x1c-\x1e.
        for paragraph in t.footer.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            lines(paragraph)
    p.cut()
    return p.output
