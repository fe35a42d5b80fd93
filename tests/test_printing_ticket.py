"""Ticket rendering, checked by decoding the bytes as a printer would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printing.decode import Cut, Decoded, Feed, QRCode, TextLine, decode
from printing.ticket import (
    PAPER,
    TicketPrint,
    format_eta,
    format_issued_at,
    printable_text,
    render_ticket,
)
from tests.printing_support.tickets import MONDAY_0815, TRACK_URL, make_ticket

COLUMNS = {58: 32, 80: 48}


def rendered(paper_mm: int = 58, **fields: object) -> Decoded:
    return decode(render_ticket(make_ticket(**fields), paper_mm))


def assert_fits(d: Decoded, paper_mm: int) -> None:
    for line in d.lines:
        assert line.columns <= COLUMNS[paper_mm], line
        assert line.dots <= PAPER[paper_mm].dots, line


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_indonesian_ticket(paper_mm: int) -> None:
    d = rendered(paper_mm, priority=True, footer="Terima kasih.")
    lines = d.text_lines
    assert lines[:3] == ["MPP Kota Bandung", "Disdukcapil", "Perekaman KTP-el"]
    assert "NOMOR ANTRIAN" in lines and "PRIORITAS" in lines
    assert "Jumlah antrian di depan Anda: 4" in lines
    assert "Perkiraan waktu tunggu: 15 menit" in lines
    assert "Dilayani di: Loket 1, Loket 2" in lines
    if paper_mm == 80:
        assert "Senin, 23 November 2026 08:15 WIB" in lines
    else:  # 33 characters: the time goes on its own line
        assert ["Senin, 23 November 2026", "08:15 WIB"] == lines[lines.index("Senin, 23 November 2026") :][:2]
    assert lines[-2:] == ["Pindai untuk memantau antrian", "Terima kasih."]
    assert all(line.align == "center" for line in d.lines)
    assert_fits(d, paper_mm)


def test_english_ticket() -> None:
    d = rendered(80, lang="en", priority=True, eta_minutes=75)
    lines = d.text_lines
    for expected in (
        "QUEUE NUMBER",
        "PRIORITY",
        "People ahead of you: 4",
        "Estimated wait: 1 hour 15 minutes",
        "Served at: Loket 1, Loket 2",
        "Monday, 23 November 2026 08:15 WIB",
        "Scan to track your queue",
    ):
        assert expected in lines
    assert not any("Jumlah" in line or "PRIORITAS" in line for line in lines)


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_number_is_large_bold_text_not_an_image(paper_mm: int) -> None:
    d = rendered(paper_mm, number="BPJ007")
    number = d.find("BPJ007")
    assert number is not None and number.text == "BPJ007"
    assert number.width >= 2 and number.height >= 2 and number.bold
    assert number.columns <= COLUMNS[paper_mm]
    assert all(line.width < number.width for line in d.lines if line is not number)
    assert d.images == []


def test_priority_mark_is_inverted_and_only_on_priority_tickets() -> None:
    mark = rendered(priority=True).find("PRIORITAS")
    assert mark is not None and mark.style.invert and mark.width == 2
    assert rendered(priority=False).find("PRIORITAS") is None
    after = rendered(priority=True).find("Jumlah antrian")
    assert after is not None and not after.style.invert and after.width == 1  # modes restored


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_native_qr_to_track_url_centred_with_caption(paper_mm: int) -> None:
    data = render_ticket(make_ticket(), paper_mm)
    d = decode(data)
    (qr,) = d.qr_codes
    assert qr.text == TRACK_URL and qr.align == "center"
    assert qr.model == 2 and qr.error_correction == "M"
    assert b"\x1d(k" in data and len(data) < 1500  # native: no 11 kB image
    after = d.events[d.events.index(qr) + 1 :]
    caption = next(e for e in after if isinstance(e, TextLine) and e.text)
    assert caption.text == "Pindai untuk memantau antrian"


def test_qr_modules_shrink_to_fit_a_long_url() -> None:
    short = rendered(58).qr_codes[0]
    long = rendered(58, track_url="http://antre.local/t/" + "x" * 400).qr_codes[0]
    assert long.module_size < short.module_size


def test_url_too_long_for_a_qr_code() -> None:
    with pytest.raises(ValueError, match="too long for a QR code"):
        render_ticket(make_ticket(track_url="http://a/" + "x" * 3000))


def test_no_url_no_qr_no_caption() -> None:
    d = rendered(track_url="")
    assert d.qr_codes == [] and "Pindai untuk memantau antrian" not in d.text_lines


def test_feed_then_cut_at_the_end() -> None:
    d = rendered()
    assert d.cuts == [Cut(partial=False)]
    assert isinstance(d.events[-1], Cut)
    assert isinstance(d.events[-2], Feed) and d.events[-2].lines >= 3


def test_long_service_name_wraps_at_spaces() -> None:
    name = "Perekaman KTP-el dan Pencetakan Kartu Identitas Anak (KIA) bagi Warga Pindahan"
    d = rendered(58, service_name=name)
    start = d.text_lines.index("Disdukcapil") + 1
    end = d.text_lines.index("-" * 32)
    wrapped = d.text_lines[start:end]
    assert len(wrapped) == 3
    assert " ".join(wrapped) == name  # nothing lost, no word cut
    assert all(len(line) <= 32 for line in wrapped)


def test_a_word_longer_than_the_line_is_split() -> None:
    word = "Pelayanan" * 5  # 45 characters
    d = rendered(58, tenant_name=word)
    parts = d.text_lines[1 : d.text_lines.index("Perekaman KTP-el")]
    assert parts == [word[:32], word[32:]]


def test_non_ascii_text_is_printable_in_the_code_page() -> None:
    d = rendered(
        58,
        mpp_name="MPP “Kota” Cirebon — Jawa Barat",
        tenant_name="Café Ñandú Şişli",
        service_name="東京 🙂 ok",
        counters=["Loket\x1b@\x1dV\x001"],
    )
    lines = d.text_lines
    assert 'MPP "Kota" Cirebon - Jawa Barat' in lines
    assert "Café Ñandú Sisli" in lines  # é Ñ ú are in CP437; Ş ş are not
    assert "?? ? ok" in lines
    assert "Dilayani di: Loket@V1" in lines  # control bytes stripped: no command smuggled in
    assert d.commands.count("ESC @") == 1 and len(d.cuts) == 1


def test_other_code_page() -> None:
    d = decode(render_ticket(make_ticket(footer="Biaya: € 0"), 80, code_page="CP858"))
    assert "Biaya: € 0" in d.text_lines
    assert "Biaya: EUR 0" in rendered(80, footer="Biaya: € 0").text_lines  # CP437 has no €


@pytest.mark.parametrize(
    ("minutes", "indonesian", "english"),
    [
        (None, "belum dapat diperkirakan", "not available yet"),
        (0, "kurang dari 1 menit", "less than 1 minute"),
        (1, "1 menit", "1 minute"),
        (15, "15 menit", "15 minutes"),
        (60, "1 jam", "1 hour"),
        (75, "1 jam 15 menit", "1 hour 15 minutes"),
        (121, "2 jam 1 menit", "2 hours 1 minute"),
    ],
)
def test_eta_wording(minutes: int | None, indonesian: str, english: str) -> None:
    assert format_eta(minutes, "id") == indonesian
    assert format_eta(minutes, "en") == english


@pytest.mark.parametrize(
    ("day", "name"),
    [(23, "Senin"), (24, "Selasa"), (25, "Rabu"), (26, "Kamis"), (27, "Jumat"), (28, "Sabtu"), (29, "Minggu")],
)
def test_indonesian_day_names(day: int, name: str) -> None:
    dt = MONDAY_0815.replace(day=day)
    assert format_issued_at(dt) == (f"{name}, {day} November 2026", "08:15 WIB")


def test_month_names_and_zones() -> None:
    months = [format_issued_at(MONDAY_0815.replace(month=m, day=1))[0].split()[2] for m in range(1, 13)]
    assert months == [
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ]  # fmt: skip
    makassar = datetime(2026, 8, 17, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    assert format_issued_at(makassar) == ("Senin, 17 Agustus 2026", "09:00 WITA")
    jayapura = datetime(2026, 8, 17, 10, 0, tzinfo=ZoneInfo("Asia/Jayapura"))
    assert format_issued_at(jayapura, "en") == ("Monday, 17 August 2026", "10:00 WIT")
    odd = datetime(2026, 8, 17, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert format_issued_at(odd)[1] == "10:00 UTC+05:30"


def test_utc_time_is_printed_in_the_mpp_zone() -> None:
    """From 17:00 UTC it is already the next day in Jakarta."""
    late = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    d = rendered(80, issued_at=late, time_zone="Asia/Jakarta")
    assert "Senin, 23 November 2026 00:30 WIB" in d.text_lines


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lang": "fr"}, "lang"),
        ({"people_ahead": -1}, "people_ahead"),
        ({"eta_minutes": -5}, "eta_minutes"),
        ({"issued_at": datetime(2026, 11, 23, 8, 15)}, "time-zone aware"),
        ({"number": "  "}, "number"),
    ],
)
def test_invalid_tickets(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_ticket(**fields)


def test_invalid_render_options() -> None:
    with pytest.raises(ValueError, match="paper_mm"):
        render_ticket(make_ticket(), 76)
    with pytest.raises(ValueError, match="code_page"):
        render_ticket(make_ticket(), 80, code_page="UTF-8")


def test_rendering_is_deterministic() -> None:
    assert render_ticket(make_ticket(), 58) == render_ticket(make_ticket(), 58)


def test_printable_text() -> None:
    assert printable_text("  a\tb\n c  ") == "a b c"
    assert printable_text("e\u0301") == "é"  # combining accent composed first
    assert printable_text("soft\u00adhyphen\u200b") == "softhyphen"  # format characters dropped
    assert printable_text("x\ue000y") == "x?y"  # private use


ZONES = st.sampled_from(
    [ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura"), UTC, ZoneInfo("Europe/Paris")]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mpp=st.text(max_size=80),
    tenant=st.text(max_size=120),
    service=st.text(max_size=200),
    number=st.from_regex(r"[A-Z]{1,3}[0-9]{3,4}", fullmatch=True) | st.text(min_size=1, max_size=14),
    people=st.integers(0, 100_000),
    eta=st.none() | st.integers(0, 48 * 60),
    issued=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES),
    counters=st.lists(st.text(max_size=30), max_size=8),
    url=st.text(max_size=300),
    footer=st.text(max_size=200),
    lang=st.sampled_from(["id", "en"]),
    priority=st.booleans(),
    paper_mm=st.sampled_from([58, 80]),
)
def test_any_ticket_renders_and_decodes(
    mpp: str,
    tenant: str,
    service: str,
    number: str,
    people: int,
    eta: int | None,
    issued: datetime,
    counters: list[str],
    url: str,
    footer: str,
    lang: str,
    priority: bool,
    paper_mm: int,
) -> None:
    if not number.strip():
        number = "A001"
    t = TicketPrint(
        mpp_name=mpp,
        tenant_name=tenant,
        service_name=service,
        number=number,
        people_ahead=people,
        eta_minutes=eta,
        issued_at=issued,
        counters=counters,
        track_url=url,
        footer=footer,
        lang=lang,
        priority=priority,
    )
    d = decode(render_ticket(t, paper_mm))  # strict: every byte is understood
    assert d.unknown == []
    assert_fits(d, paper_mm)
    assert d.cuts == [Cut(partial=False)] and isinstance(d.events[-1], Cut)
    if url:
        assert d.qr_codes == [QRCode(url.encode(), 2, d.qr_codes[0].module_size, "M", "center")]
    else:
        assert d.qr_codes == []
    text = d.text
    for field in (mpp, tenant, service, footer, *counters):
        for word in printable_text(field).split():
            if len(word) <= COLUMNS[paper_mm]:
                assert word in text
    shown = printable_text(number) or "?"
    big = [line for line in d.lines if line.width > 1 and line.text == shown]
    assert big or len(shown) * 2 > COLUMNS[paper_mm]
    assert (d.find(" PRIORITAS ") or d.find(" PRIORITY ")) is not None if priority else True


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["http://antre.local/t/", "http://10.0.0.5:5000/t/", "HTTP://A/T/"]),
       st.text(alphabet="0123456789ABCDEFabcdef-_", min_size=0, max_size=120))
def test_the_qr_size_looked_up_is_the_size_fitted(prefix: str, token: str) -> None:
    """The QR version is cached by the shape of the data (mode and length of each segment)."""
    import qrcode

    from printing.ticket import PAPER, _qr_module_size

    payload = (prefix + token).encode()
    for paper in PAPER.values():
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        qr.add_data(payload)
        fitted = max(1, min(paper.qr_max_module, paper.dots // (17 + 4 * qr.best_fit() + 8)))
        assert _qr_module_size(payload, paper) == fitted
