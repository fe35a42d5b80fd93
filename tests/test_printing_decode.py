"""The ESC/POS decoder, on hand-made byte streams and on python-escpos output."""

from __future__ import annotations

import pytest
from escpos.constants import QR_ECLEVEL_H
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from printing.decode import (
    Cut,
    DecodeError,
    Decoder,
    Feed,
    Image,
    Init,
    QRCode,
    StatusQuery,
    TextLine,
    Unknown,
    decode,
)
from printing.ticket import render_ticket
from tests.printing_support.tickets import make_ticket

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"


def test_text_lines_carry_style_and_alignment() -> None:
    data = ESC + b"@" + ESC + b"a\x01" + ESC + b"E\x01" + b"Judul\n" + ESC + b"E\x00" + ESC + b"a\x00" + b"Isi\n"
    d = decode(data)
    assert isinstance(d.events[0], Init)
    title, body = d.lines
    assert (title.text, title.align, title.bold) == ("Judul", "center", True)
    assert (body.text, body.align, body.bold) == ("Isi", "left", False)


def test_alignment_only_at_line_start() -> None:
    d = decode(b"ab" + ESC + b"a\x02" + b"cd\n" + b"ef\n")
    assert [(line.text, line.align) for line in d.lines] == [("abcd", "left"), ("ef", "left")]


def test_gs_bang_and_esc_bang_last_one_wins() -> None:
    d = decode(GS + b"!\x33" + b"BIG\n" + ESC + b"!\x30" + b"2x\n" + ESC + b"!\x00" + b"n\n" + GS + b"!\x10" + b"w\n")
    sizes = [(line.text, line.width, line.height) for line in d.lines]
    assert sizes == [("BIG", 4, 4), ("2x", 2, 2), ("n", 1, 1), ("w", 2, 1)]
    assert d.lines[0].columns == 12 and d.lines[0].dots == 144


def test_esc_bang_also_clears_bold() -> None:
    """ESC ! sets every print mode bit at once: bold goes with it."""
    d = decode(ESC + b"E\x01" + b"b\n" + ESC + b"!\x00" + b"n\n")
    assert [line.bold for line in d.lines] == [True, False]


def test_mixed_segments_in_one_line() -> None:
    d = decode(b"No: " + GS + b"!\x11" + b"A1" + GS + b"!\x00" + b" ok\n")
    (line,) = d.lines
    assert [(s.text, s.style.width) for s in line.segments] == [("No: ", 1), ("A1", 2), (" ok", 1)]
    assert line.columns == 4 + 4 + 3 and line.width == 2


def test_init_discards_unprinted_text_and_resets_modes() -> None:
    d = decode(ESC + b"E\x01" + ESC + b"a\x01" + b"lost" + ESC + b"@" + b"kept\n")
    (line,) = d.lines
    assert (line.text, line.bold, line.align) == ("kept", False, "left")


def test_code_pages() -> None:
    d = decode(ESC + b"t\x00" + b"caf\x82\n" + ESC + b"t\x10" + b"\x80 5\n" + ESC + b"t\x13" + b"\xd5\n")
    assert d.text_lines == ["café", "€ 5", "€"]  # CP437 é, CP1252 €, CP858 €


def test_text_without_line_feed_is_not_a_line() -> None:
    decoder = Decoder()
    assert decoder.feed(b"tail") == []
    assert decoder.pending_text == "tail" and decoder.line_pending
    assert decoder.finish() == []


def test_feeds_and_tabs() -> None:
    d = decode(b"a\tb" + ESC + b"d\x03" + ESC + b"J\x18")
    assert d.lines[0].text == "a       b"
    assert [e for e in d.events if isinstance(e, Feed)] == [Feed(lines=3), Feed(dots=24)]


def test_qr_store_and_print() -> None:
    data = (
        ESC + b"a\x01"
        + GS + b"(k\x04\x001A2\x00"  # model 2
        + GS + b"(k\x03\x001C\x07"  # module size 7
        + GS + b"(k\x03\x001E1"  # error correction M
        + GS + b"(k\x0c\x001P0https://x"  # store: cn fn m + 9 bytes
        + GS + b"(k\x03\x001Q0"  # print
    )  # fmt: skip
    (qr,) = decode(data).qr_codes
    assert qr == QRCode(b"https://x", model=2, module_size=7, error_correction="M", align="center")


@pytest.mark.parametrize(
    ("raw", "cut"),
    [
        (GS + b"V\x00", Cut(partial=False)),
        (GS + b"V0", Cut(partial=False)),
        (GS + b"V\x01", Cut(partial=True)),
        (GS + b"VA\x05", Cut(partial=False, feed=5)),
        (GS + b"VB\x00", Cut(partial=True, feed=0)),
    ],
)
def test_cuts(raw: bytes, cut: Cut) -> None:
    assert decode(raw).cuts == [cut]


def test_status_queries() -> None:
    d = decode(DLE + b"\x04\x01" + DLE + b"\x04\x04" + GS + b"r\x01" + DLE + b"\x04\x02")
    assert d.status_queries == [
        StatusQuery("DLE EOT", 1),
        StatusQuery("DLE EOT", 4),
        StatusQuery("GS r", 1),
        StatusQuery("DLE EOT", 2),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (ESC + b"\x99", "ESC 0x99"),
        (b"ok\x07", "control byte 0x07"),
        (DLE + b"\x04\x09", "DLE EOT with n=9"),
        (GS + b"V\x07", "GS V with m=7"),
        (ESC + b"a\x05", "ESC a with invalid n=5"),
        (GS + b"r\x09", "GS r with n=9"),
    ],
)
def test_strict_mode_names_unknown_commands(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(raw)


def test_error_reports_the_offset() -> None:
    with pytest.raises(DecodeError, match="at offset 5"):
        decode(b"hello" + ESC + b"\x99")


def test_lenient_mode_skips_unknown_and_goes_on() -> None:
    d = decode(b"a\n" + ESC + b"\x99" + b"b\n", strict=False)
    assert d.text_lines == ["a", "b"]
    assert d.unknown == [Unknown(2, ESC + b"\x99", "unknown command ESC 0x99")]


def test_truncated_command_at_end() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        decode(GS + b"(k\x05\x001P0a")
    assert decode(GS + b"(k\x05\x001P0a", strict=False).unknown[0].reason.startswith("truncated")


def test_everything_python_escpos_emits_for_tickets_and_more() -> None:
    """A printer driven through python-escpos' API decodes without one unknown byte."""
    p = Dummy()
    p.hw("INIT")
    p.charcode("CP858")
    p.set(align="center", bold=True, underline=1, double_width=True, double_height=True)
    p.textln("Judul")
    p.set(custom_size=True, width=3, height=2, invert=True, smooth=True, flip=False)
    p.textln("A012")
    p.set_with_default()
    p.set(font="b", density=5)
    p.textln("small €")
    p.line_spacing(40)
    p.line_spacing()
    p.control("HT")
    p.control("LF")
    p.qr("https://antre.local/t/1", ec=QR_ECLEVEL_H, size=5, native=True)
    p.barcode("4006381333931", "EAN13", function_type="A")
    p.barcode("{B012345", "CODE128", function_type="B")
    img = PILImage.new("1", (64, 24), 1)
    for impl in ("bitImageRaster", "bitImageColumn", "graphics"):
        p.image(img, impl=impl)
    p.qr("https://antre.local/t/2", native=False)  # as an image
    p.buzzer(2, 1)
    p.cashdraw(2)
    p.print_and_feed(2)
    p.panel_buttons(False)
    p.cut(mode="PART")
    p.cut(feed=False)
    d = decode(p.output)
    assert d.unknown == []
    assert "Judul" in d.text_lines and "A012" in d.text_lines and "small €" in d.text_lines
    assert [q.text for q in d.qr_codes] == ["https://antre.local/t/1"]
    assert d.qr_codes[0].error_correction == "H" and d.qr_codes[0].module_size == 5
    assert [i.command for i in d.images] == ["GS v 0", "ESC *", "GS ( L", "GS v 0"]
    assert d.images[2] == Image("GS ( L", 64, 24)
    assert d.find("A012") is not None and d.find("A012").style.invert  # type: ignore[union-attr]
    assert d.find("small €").style.font == 1  # type: ignore[union-attr]
    assert d.cuts == [Cut(partial=True), Cut(partial=True, feed=0)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=2000), max_size=12))
def test_streaming_equals_one_shot(cuts: list[int]) -> None:
    """Fed in chunks split anywhere (inside commands too), the decoder sees the same thing."""
    data = render_ticket(make_ticket(priority=True, footer="Terima kasih"), 58)
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    decoder = Decoder()
    events = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        events.extend(decoder.feed(data[start:end]))
    events.extend(decoder.finish())
    assert events == decode(data).events


def test_images_are_consumed_whole() -> None:
    """Image data can contain any byte (LF, ESC...): it must not leak into the text."""
    p = Dummy()
    img = PILImage.new("1", (16, 8), 0)  # all black: 0xFF bytes
    img.putpixel((0, 0), 1)
    p.image(img, impl="bitImageRaster")
    p.textln("after")
    d = decode(p.output)
    assert d.images == [Image("GS v 0", 16, 8)]
    assert d.text_lines == ["after"]
    assert [e for e in d.events if isinstance(e, TextLine)] == d.lines
