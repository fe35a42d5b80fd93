"""An ESC/POS decoder: bytes in, structured print events out.

Used by the tests (to check a rendered ticket the way a printer would see it)
and by :mod:`printing.virtual` (to emulate a printer).  It follows the printer
model of Epson's ESC/POS reference for standard mode:

* printable bytes (0x20-0xFF) go into a line buffer, decoded with the code page
  selected by ``ESC t`` and carrying the text style in force (``ESC !``,
  ``GS !``, ``ESC E``, ``ESC -``, ``ESC M``, ``GS B``);
* ``LF``, ``ESC d`` and ``ESC J`` print the buffer as a :class:`TextLine`;
* ``ESC a`` only takes effect at the beginning of a line;
* ``ESC @`` resets every mode *and discards the line buffer*;
* ``GS ( k`` stores and prints 2D symbols (QR codes), ``GS V`` cuts;
* ``DLE EOT n`` and ``GS r n`` are status queries (a printer answers them).

:class:`Decoder` is incremental: feed it bytes as they arrive (a command may be
split across chunks) and it returns the events completed so far.  In strict
mode an unknown command raises :class:`DecodeError`; otherwise it is recorded
as an :class:`Unknown` event and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from escpos.codepages import CodePages

__all__ = [
    "Cut",
    "DecodeError",
    "Decoded",
    "Decoder",
    "Feed",
    "Image",
    "Init",
    "ParsedCommand",
    "Pulse",
    "QRCode",
    "Segment",
    "StatusQuery",
    "TextLine",
    "TextStyle",
    "Unknown",
    "decode",
]

NUL, LF, HT, FF, CR = 0x00, 0x0A, 0x09, 0x0C, 0x0D
DLE, EOT, ENQ, DC4, ESC, FS, GS = 0x10, 0x04, 0x05, 0x14, 0x1B, 0x1C, 0x1D

Align = Literal["left", "center", "right"]
_ALIGN: dict[int, Align] = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
_FONT_DOTS = {0: 12, 1: 9}  # character cell width of font A and font B, in dots
_TAB = 8

# ESC t n -> code page name, the standard Epson table as python-escpos knows it.
_CODE_PAGES: dict[int, str] = {
    0: "CP437", 1: "CP932", 2: "CP850", 3: "CP860", 4: "CP863", 5: "CP865",
    11: "CP851", 12: "CP853", 13: "CP857", 14: "CP737", 15: "ISO_8859-7",
    16: "CP1252", 17: "CP866", 18: "CP852", 19: "CP858", 21: "CP874",
    32: "CP720", 33: "CP775", 34: "CP855", 35: "CP861", 36: "CP862", 37: "CP864",
    38: "CP869", 39: "ISO_8859-2", 40: "ISO_8859-15", 41: "CP1098", 44: "CP1125",
    45: "CP1250", 46: "CP1251", 47: "CP1253", 48: "CP1254", 49: "CP1255",
    50: "CP1256", 51: "CP1257", 52: "CP1258", 53: "RK1048",
}  # fmt: skip


class DecodeError(ValueError):
    """The byte stream is not ESC/POS this decoder understands."""


@dataclass(frozen=True)
class TextStyle:
    """Character style in force when text was put into the line buffer."""

    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    font: int = 0
    invert: bool = False
    upside_down: bool = False

    @property
    def large(self) -> bool:
        """True when the text is enlarged in either direction."""
        return self.width > 1 or self.height > 1


@dataclass(frozen=True)
class Segment:
    """A run of text in one style."""

    text: str
    style: TextStyle


@dataclass(frozen=True)
class TextLine:
    """One printed line of text."""

    segments: tuple[Segment, ...]
    align: Align = "left"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def columns(self) -> int:
        """Width in character columns of the normal-size font A."""
        return sum(len(s.text) * s.style.width * _FONT_DOTS.get(s.style.font, 12) for s in self.segments) // 12

    @property
    def dots(self) -> int:
        """Width in printer dots."""
        return sum(len(s.text) * s.style.width * _FONT_DOTS.get(s.style.font, 12) for s in self.segments)

    @property
    def style(self) -> TextStyle:
        """The style of the first visible character (or of the line start)."""
        for s in self.segments:
            if s.text.strip():
                return s.style
        return self.segments[0].style if self.segments else TextStyle()

    @property
    def width(self) -> int:
        return max((s.style.width for s in self.segments if s.text.strip()), default=1)

    @property
    def height(self) -> int:
        return max((s.style.height for s in self.segments if s.text.strip()), default=1)

    @property
    def bold(self) -> bool:
        """True when every visible character is bold."""
        visible = [s for s in self.segments if s.text.strip()]
        return bool(visible) and all(s.style.bold for s in visible)


@dataclass(frozen=True)
class QRCode:
    """A QR code printed with ``GS ( k`` (function 181, from the symbol store)."""

    data: bytes
    model: int
    module_size: int
    error_correction: str
    align: Align

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Cut:
    partial: bool
    feed: int = 0


@dataclass(frozen=True)
class Feed:
    lines: int = 0
    dots: int = 0


@dataclass(frozen=True)
class StatusQuery:
    """A status request the printer must answer: ``DLE EOT n`` or ``GS r n``."""

    command: Literal["DLE EOT", "GS r"]
    n: int


@dataclass(frozen=True)
class Image:
    command: str
    width: int
    height: int


@dataclass(frozen=True)
class Pulse:
    pin: int


@dataclass(frozen=True)
class Init:
    """``ESC @``: modes reset, line buffer cleared."""


@dataclass(frozen=True)
class Unknown:
    """A byte sequence the decoder did not understand (non-strict mode only)."""

    offset: int
    data: bytes
    reason: str


Event = TextLine | QRCode | Cut | Feed | StatusQuery | Image | Pulse | Init | Unknown


@dataclass(frozen=True)
class ParsedCommand:
    """One command (or text run) with its raw bytes and the events it completed."""

    name: str
    raw: bytes
    offset: int
    events: tuple[Event, ...] = ()


@dataclass
class Decoded:
    """The result of decoding a whole byte stream."""

    events: list[Event] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[TextLine]:
        return [e for e in self.events if isinstance(e, TextLine)]

    @property
    def text_lines(self) -> list[str]:
        """The text of every non-blank line, stripped."""
        return [line.text.strip() for line in self.lines if line.text.strip()]

    @property
    def qr_codes(self) -> list[QRCode]:
        return [e for e in self.events if isinstance(e, QRCode)]

    @property
    def cuts(self) -> list[Cut]:
        return [e for e in self.events if isinstance(e, Cut)]

    @property
    def status_queries(self) -> list[StatusQuery]:
        return [e for e in self.events if isinstance(e, StatusQuery)]

    @property
    def images(self) -> list[Image]:
        return [e for e in self.events if isinstance(e, Image)]

    @property
    def unknown(self) -> list[Unknown]:
        return [e for e in self.events if isinstance(e, Unknown)]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def find(self, needle: str) -> TextLine | None:
        """The first line containing ``needle``."""
        for line in self.lines:
            if needle in line.text:
                return line
        return None


@lru_cache(maxsize=64)
def _code_page_table(n: int) -> tuple[str, ...] | None:
    """Characters 0x80-0xFF of code page ``n``, as python-escpos encodes them."""
    name = _CODE_PAGES.get(n)
    if name is None:
        return None
    try:
        page = CodePages.get_encoding(name)
    except KeyError:
        return None
    if "data" in page:
        chars = tuple("".join(page["data"]))
        return chars if len(chars) == 128 else None
    codec = page.get("python_encode")
    if not codec:
        return None
    table = []
    for byte in range(0x80, 0x100):
        try:
            table.append(bytes([byte]).decode(codec))
        except UnicodeDecodeError:
            table.append("\ufffd")
    return tuple(table)


class _Incomplete(Exception):
    """More bytes are needed to finish the command at the current position."""


class Decoder:
    """Incremental ESC/POS decoder holding the printer's mode state."""

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self._buf = b""
        self._offset = 0  # stream offset of self._buf[0]
        self._reset_modes()
        self._line: list[Segment] = []
        self._line_align: Align = "left"
        # QR symbol store
        self._qr_data = b""
        self._qr_model = 2
        self._qr_size = 3
        self._qr_ec = "L"
        self._graphics: tuple[int, int] | None = None  # stored GS ( L image size

    # ------------------------------------------------------------------ state
    def _reset_modes(self) -> None:
        self.style = TextStyle()
        self.align: Align = "left"
        self.code_page = 0

    @property
    def line_pending(self) -> bool:
        """True when text is in the line buffer (not printed yet)."""
        return bool(self._line)

    def _put_text(self, text: str) -> None:
        if not self._line:
            self._line_align = self.align
        if self._line and self._line[-1].style == self.style:
            last = self._line.pop()
            self._line.append(Segment(last.text + text, self.style))
        else:
            self._line.append(Segment(text, self.style))

    def _flush_line(self, *, force: bool) -> list[Event]:
        """Print the line buffer; with ``force`` an empty buffer prints a blank line."""
        if not self._line and not force:
            return []
        align = self._line_align if self._line else self.align
        line = TextLine(tuple(self._line), align)
        self._line = []
        return [line]

    def _decode_text(self, raw: bytes) -> str:
        table = _code_page_table(self.code_page)
        out = []
        for b in raw:
            if b < 0x80:
                out.append(chr(b))
            elif table is not None:
                out.append(table[b - 0x80])
            elif self.strict:
                raise DecodeError(
                    f"byte 0x{b:02X} in code page {self.code_page} (ESC t {self.code_page}),"
                    " which this decoder cannot map"
                )
            else:
                out.append("\ufffd")
        return "".join(out)

    # -------------------------------------------------------------- interface
    def feed_commands(self, data: bytes) -> list[ParsedCommand]:
        """Consume ``data``; return every command completed by it."""
        self._buf += data
        out: list[ParsedCommand] = []
        pos = 0
        while pos < len(self._buf):
            try:
                end, name, events = self._step(self._buf, pos)
            except _Incomplete:
                break
            out.append(ParsedCommand(name, self._buf[pos:end], self._offset + pos, tuple(events)))
            pos = end
        self._buf = self._buf[pos:]
        self._offset += pos
        return out

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data``; return the events completed by it."""
        return [e for cmd in self.feed_commands(data) for e in cmd.events]

    def finish(self) -> list[Event]:
        """End of stream: an unfinished command is an error in strict mode.

        Text left in the line buffer is *not* printed (a printer would not
        print it either before a line feed).
        """
        if not self._buf:
            return []
        rest, offset = self._buf, self._offset
        self._offset += len(rest)
        self._buf = b""
        if self.strict:
            raise DecodeError(f"truncated command {rest[:8].hex(' ')} at offset {offset}")
        return [Unknown(offset, rest, "truncated command at end of data")]

    @property
    def pending_text(self) -> str:
        """Text in the line buffer that no line feed has printed yet."""
        return "".join(s.text for s in self._line)

    # ---------------------------------------------------------------- parsing
    def _need(self, buf: bytes, end: int) -> None:
        if len(buf) < end:
            raise _Incomplete

    def _unknown(self, buf: bytes, pos: int, length: int, what: str) -> tuple[int, str, list[Event]]:
        length = max(1, min(length, len(buf) - pos))
        raw = buf[pos : pos + length]
        if self.strict:
            raise DecodeError(f"unknown ESC/POS command {what} ({raw.hex(' ')}) at offset {self._offset + pos}")
        return pos + length, "unknown", [Unknown(self._offset + pos, raw, f"unknown command {what}")]

    def _step(self, buf: bytes, pos: int) -> tuple[int, str, list[Event]]:
        b = buf[pos]
        if b >= 0x20:
            end = pos
            while end < len(buf) and buf[end] >= 0x20:
                end += 1
            self._put_text(self._decode_text(buf[pos:end]))
            return end, "text", []
        if b == LF:
            return pos + 1, "LF", self._flush_line(force=True)
        if b == CR:
            return pos + 1, "CR", []
        if b == HT:
            col = len(self.pending_text)
            self._put_text(" " * (_TAB - col % _TAB))
            return pos + 1, "HT", []
        if b == FF:
            return pos + 1, "FF", self._flush_line(force=False)
        if b == ESC:
            return self._esc(buf, pos)
        if b == GS:
            return self._gs(buf, pos)
        if b == DLE:
            return self._dle(buf, pos)
        if b == FS:
            return self._fs(buf, pos)
        return self._unknown(buf, pos, 1, f"control byte 0x{b:02X}")

    def _esc(self, buf: bytes, pos: int) -> tuple[int, str, list[Event]]:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        ch = chr(c)
        if ch == "@":
            self._reset_modes()
            self._line = []
            return pos + 2, "ESC @", [Init()]
        if ch in "23":
            end = pos + 2 if ch == "2" else pos + 3
            self._need(buf, end)
            return end, f"ESC {ch}", []
        if ch == "c":  # ESC c 3/4/5 n: paper sensors and panel buttons
            self._need(buf, pos + 4)
            return pos + 4, "ESC c", []
        if ch == "p":  # ESC p m t1 t2: drawer pulse
            self._need(buf, pos + 5)
            return pos + 5, "ESC p", [Pulse(buf[pos + 2] & 1)]
        if ch in "B$\\":  # buzzer, absolute and relative position: two parameter bytes
            self._need(buf, pos + 4)
            return pos + 4, f"ESC {ch}", []
        if ch == "D":  # tab positions, NUL terminated (at most 32)
            end = buf.find(b"\x00", pos + 2, pos + 2 + 33)
            if end < 0:
                if len(buf) - pos >= 2 + 33:
                    return self._unknown(buf, pos, 2, "ESC D without NUL")
                raise _Incomplete
            return end + 1, "ESC D", []
        if ch == "*":  # ESC * m nL nH d...: column bit image
            self._need(buf, pos + 5)
            m, n = buf[pos + 2], buf[pos + 3] | buf[pos + 4] << 8
            if m in (0, 1):
                size = n
            elif m in (32, 33):
                size = 3 * n
            else:
                return self._unknown(buf, pos, 3, f"ESC * with mode {m}")
            self._need(buf, pos + 5 + size)
            return pos + 5 + size, "ESC *", [Image("ESC *", n, 8 if m < 32 else 24)]
        if ch in "!EG-atdJM{RV r=":
            self._need(buf, pos + 3)
            n = buf[pos + 2]
            return pos + 3, f"ESC {ch}", self._esc_n(ch, n, buf, pos)
        return self._unknown(buf, pos, 2, f"ESC 0x{c:02X}")

    def _esc_n(self, ch: str, n: int, buf: bytes, pos: int) -> list[Event]:
        s = self.style
        if ch == "!":
            self.style = replace(
                s,
                font=n & 0x01,
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif ch in "EG":
            self.style = replace(s, bold=bool(n & 1))
        elif ch == "-":
            self.style = replace(s, underline={0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(n, 0))
        elif ch == "M":
            self.style = replace(s, font={0: 0, 48: 0, 1: 1, 49: 1}.get(n, 0))
        elif ch == "{":
            self.style = replace(s, upside_down=bool(n & 1))
        elif ch == "a":
            if n not in _ALIGN:
                if self.strict:
                    raise DecodeError(f"ESC a with invalid n={n} at offset {self._offset + pos}")
                return [Unknown(self._offset + pos, buf[pos : pos + 3], "invalid ESC a")]
            # Only effective at the beginning of a line.
            if not self._line:
                self.align = _ALIGN[n]
        elif ch == "t":
            self.code_page = n
        elif ch == "d":
            return [*self._flush_line(force=False), Feed(lines=n)]
        elif ch == "J":
            return [*self._flush_line(force=False), Feed(dots=n)]
        return []

    def _gs(self, buf: bytes, pos: int) -> tuple[int, str, list[Event]]:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        ch = chr(c)
        if ch == "(":
            self._need(buf, pos + 5)
            fn_class = chr(buf[pos + 2])
            size = buf[pos + 3] | buf[pos + 4] << 8
            end = pos + 5 + size
            self._need(buf, end)
            body = buf[pos + 5 : end]
            if fn_class == "k":
                return end, "GS ( k", self._gs_paren_k(body, pos)
            if fn_class == "L":
                return end, "GS ( L", self._gs_paren_l(body)
            if fn_class in "AEHK":
                return end, f"GS ( {fn_class}", []
            return self._unknown(buf, pos, 3, f"GS ( {fn_class!r}")
        if ch == "8" and len(buf) > pos + 2 and buf[pos + 2] == ord("L"):
            self._need(buf, pos + 7)
            size = int.from_bytes(buf[pos + 3 : pos + 7], "little")
            self._need(buf, pos + 7 + size)
            return pos + 7 + size, "GS 8 L", []
        if ch == "v":  # GS v 0 m xL xH yL yH d...: raster bit image
            self._need(buf, pos + 8)
            if buf[pos + 2] != ord("0"):
                return self._unknown(buf, pos, 3, "GS v other than GS v 0")
            xbytes = buf[pos + 4] | buf[pos + 5] << 8
            rows = buf[pos + 6] | buf[pos + 7] << 8
            end = pos + 8 + xbytes * rows
            self._need(buf, end)
            return end, "GS v 0", [*self._flush_line(force=False), Image("GS v 0", xbytes * 8, rows)]
        if ch == "V":
            self._need(buf, pos + 3)
            m = buf[pos + 2]
            if m in (0, 48, 1, 49):
                events = [*self._flush_line(force=False), Cut(partial=m in (1, 49))]
                return pos + 3, "GS V", events
            if m in (65, 66, 97, 98, 103, 104):
                self._need(buf, pos + 4)
                events = [*self._flush_line(force=False), Cut(partial=m % 2 == 0, feed=buf[pos + 3])]
                return pos + 4, "GS V", events
            return self._unknown(buf, pos, 3, f"GS V with m={m}")
        if ch == "k":  # barcodes
            self._need(buf, pos + 3)
            m = buf[pos + 2]
            if m <= 6:
                end = buf.find(b"\x00", pos + 3)
                if end < 0:
                    raise _Incomplete
                return end + 1, "GS k", []
            self._need(buf, pos + 4)
            end = pos + 4 + buf[pos + 3]
            self._need(buf, end)
            return end, "GS k", []
        if ch in "LW$\\P":
            self._need(buf, pos + 4)
            return pos + 4, f"GS {ch}", []
        if ch in "!BbrhwHf|aI":
            self._need(buf, pos + 3)
            n = buf[pos + 2]
            if ch == "!":
                self.style = replace(self.style, width=(n >> 4 & 7) + 1, height=(n & 7) + 1)
            elif ch == "B":
                self.style = replace(self.style, invert=bool(n & 1))
            elif ch == "r":
                if n not in (1, 2, 4, 49, 50, 52):
                    return self._unknown(buf, pos, 3, f"GS r with n={n}")
                return pos + 3, "GS r", [StatusQuery("GS r", n)]
            return pos + 3, f"GS {ch}", []
        return self._unknown(buf, pos, 2, f"GS 0x{c:02X}")

    def _gs_paren_k(self, body: bytes, pos: int) -> list[Event]:
        if len(body) < 2:
            if self.strict:
                raise DecodeError(f"GS ( k too short at offset {self._offset + pos}")
            return [Unknown(self._offset + pos, body, "short GS ( k")]
        cn, fn = body[0], body[1]
        if cn != 49:  # other 2D symbols (PDF417, DataMatrix...): accepted, not modelled
            return []
        if fn == 65 and len(body) >= 3:
            self._qr_model = {49: 1, 50: 2, 51: 3}.get(body[2], 2)
        elif fn == 67 and len(body) >= 3:
            self._qr_size = body[2]
        elif fn == 69 and len(body) >= 3:
            self._qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(body[2], "?")
        elif fn == 80:
            self._qr_data = body[3:]
        elif fn == 81:
            events: list[Event] = [*self._flush_line(force=False)]
            events.append(QRCode(self._qr_data, self._qr_model, self._qr_size, self._qr_ec, self.align))
            return events
        elif fn == 82:  # "transmit size information": not answered by this model
            return []
        elif self.strict:
            raise DecodeError(f"GS ( k QR function {fn} at offset {self._offset + pos}")
        return []

    def _gs_paren_l(self, body: bytes) -> list[Event]:
        """Graphics: function 112 stores a raster image, function 50 prints it."""
        fn = body[1] if len(body) > 1 else None
        if fn == 112 and len(body) >= 10:
            self._graphics = (body[6] | body[7] << 8, body[8] | body[9] << 8)
        elif fn in (50, 2) and self._graphics is not None:
            return [*self._flush_line(force=False), Image("GS ( L", *self._graphics)]
        return []

    def _dle(self, buf: bytes, pos: int) -> tuple[int, str, list[Event]]:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        if c == EOT:
            self._need(buf, pos + 3)
            n = buf[pos + 2]
            if 1 <= n <= 4:
                return pos + 3, "DLE EOT", [StatusQuery("DLE EOT", n)]
            if n in (7, 8):
                self._need(buf, pos + 4)
                return pos + 4, "DLE EOT", [StatusQuery("DLE EOT", n)]
            return self._unknown(buf, pos, 3, f"DLE EOT with n={n}")
        if c == ENQ:
            self._need(buf, pos + 3)
            return pos + 3, "DLE ENQ", []
        if c == DC4:
            self._need(buf, pos + 3)
            fn = buf[pos + 2]
            if fn in (1, 2):
                self._need(buf, pos + 5)
                events: list[Event] = [Pulse(buf[pos + 3] & 1)] if fn == 1 else []
                return pos + 5, "DLE DC4", events
            return self._unknown(buf, pos, 3, f"DLE DC4 fn={fn}")
        return self._unknown(buf, pos, 2, f"DLE 0x{c:02X}")

    def _fs(self, buf: bytes, pos: int) -> tuple[int, str, list[Event]]:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        if chr(c) in ".&":
            return pos + 2, f"FS {chr(c)}", []
        return self._unknown(buf, pos, 2, f"FS 0x{c:02X}")


def decode(data: bytes, *, strict: bool = True) -> Decoded:
    """Decode a complete ESC/POS byte stream."""
    decoder = Decoder(strict=strict)
    result = Decoded()
    for cmd in decoder.feed_commands(data):
        result.commands.append(cmd.name)
        result.events.extend(cmd.events)
    result.events.extend(decoder.finish())
    return result
