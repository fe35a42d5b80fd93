"""The kiosk page in Debian's Chromium against a real server, audited by axe-core at every state.

Walks every path of the kiosk: a walk-in ticket in both languages and both
contrast modes (with and without priority), a closed and a quota-full service
(shown, then refused kindly by the API), booking check-in typed and scanned,
paper out (the ticket to photograph), keyboard / keypad only, switch scanning,
the double-tap guard, speech mode, the idle timeout, and the three kiosk
screen sizes with the low-reach layout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from antre.store import Store
from printing.decode import decode
from tests.support.browser import assert_no_axe_violations
from tests.support.live import LiveServer
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = [(1080, 1920), (1920, 1080), (1280, 800)]
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kiosk-prints")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, prints: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("kiosk-browser"), extra_args=["--printer", f"file:{prints}"]).start()
    with_store(live, lambda store, db: store.set_setting(db, "kiosk.scan_seconds", 0.6))
    yield live
    live.stop()


def with_store(live: LiveServer, fn: Any) -> Any:
    store = Store(live.data_dir)
    try:
        with store.write() as db:
            return fn(store, db)
    finally:
        store.close()


def service_id(live: LiveServer, code: str) -> int:
    return with_store(live, lambda s, db: db.conn.execute("SELECT id FROM services WHERE code = ?",
                                                         (code,)).fetchone()[0])


def open_kiosk(browser: Any, live: LiveServer, token: str, size: tuple[int, int] = (1280, 800)) -> Any:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="id-ID",
                                  timezone_id="Asia/Jakarta")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.kiosk_errors = errors  # type: ignore[attr-defined]
    page.goto(f"{live.url}/kiosk?token={token}")
    page.wait_for_selector("#s-start:not([hidden])")
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.action === 'take'")
    return page


def close(page: Any) -> None:
    assert page.kiosk_errors == []  # type: ignore[attr-defined]
    page.context.close()


def audit(page: Any, label: str) -> None:
    assert_no_axe_violations(page, label)


def screen(page: Any, name: str) -> None:
    page.wait_for_selector(f"#s-{name}:not([hidden])")


def wait_until(page: Any, predicate: Any, timeout: float = 10.0) -> None:
    """Wait while letting Playwright deliver its events (a plain sleep would not)."""
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not met in time"
        page.wait_for_timeout(50)


def printed_numbers(directory: Path) -> list[str]:
    out = []
    # in the order written (a file printer's names sort by second, then by a nanosecond count that restarts
    # each second: the order of two tickets a second boundary apart is only in their modification times)
    for path in sorted(directory.glob("*.bin"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        lines = decode(path.read_bytes()).text_lines
        out.append(lines[lines.index("NOMOR ANTRIAN") + 1] if "NOMOR ANTRIAN" in lines
                   else lines[lines.index("QUEUE NUMBER") + 1])
    return out


# ------------------------------------------------------------------ walk-ins


@pytest.mark.parametrize(("lang", "contrast", "reason"), [
    ("id", False, None), ("en", False, "disabled"), ("id", True, "pregnant"), ("en", True, None),
])
def test_walk_in_ticket_every_screen_audited(browser: Any, server: LiveServer, prints: Path, lang: str,
                                             contrast: bool, reason: str | None) -> None:
    kiosk = server.token("kiosk", f"Kios {lang} {contrast}")
    page = open_kiosk(browser, server, kiosk)
    label = f"[{lang}{' hc' if contrast else ''}]"
    if lang == "en":
        page.click("#btn-lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    if contrast:
        page.click("#btn-contrast")
        assert page.get_attribute("#btn-contrast", "aria-pressed") == "true"
    expected = {"id": ("Selamat datang", "Pilih instansi"), "en": ("Welcome", "Choose an agency")}[lang]
    assert page.inner_text("#h-start") == expected[0]
    audit(page, f"start {label}")
    page.click("[data-action=take]")
    screen(page, "tenants")
    assert page.inner_text("#h-tenants") == expected[1]
    audit(page, f"tenants {label}")
    tenant = page.locator("#tenant-list button").nth(1)  # Kantor Imigrasi / Immigration Office
    tenant.click()
    screen(page, "services")
    audit(page, f"services {label}")
    page.locator("#service-list button").first.click()
    screen(page, "priority")
    audit(page, f"priority {label}")
    page.click(f"[data-reason='{reason or ''}']")
    screen(page, "ticket")
    page.wait_for_selector("#t-print.k-ok", timeout=10000)
    number = page.inner_text("#t-number")
    assert number.startswith("P")
    assert page.is_visible("#t-priority") == bool(reason)
    page.wait_for_function("() => document.getElementById('t-qr').naturalWidth > 0")  # the QR code is drawn
    audit(page, f"ticket {label}")
    assert number in printed_numbers(prints)
    if reason:
        audited = with_store(server, lambda s, db: [json.loads(r[0]) for r in db.conn.execute(
            "SELECT details FROM audit WHERE action = 'ticket.issued' AND details LIKE ?", (f'%"{number}"%',))])
        assert audited[-1]["priority_reason"] == reason
    page.click("[data-action=done]")
    screen(page, "start")
    assert page.evaluate("() => document.documentElement.lang") == "id"  # the next visitor starts afresh
    assert not page.evaluate("() => document.body.classList.contains('hc')")
    close(page)


# --------------------------------------------------- closed and quota-full


def test_closed_and_quota_full_services_are_shown_and_refused_kindly(browser: Any, server: LiveServer) -> None:
    closed, full, later = service_id(server, "AB"), service_id(server, "AC"), service_id(server, "AD")
    opening = (datetime.now(JAKARTA) + timedelta(hours=2)).replace(minute=0)
    window = [[f"{opening.hour:02d}:00", f"{opening.hour:02d}:30"]]
    hours = json.dumps({d: window for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})

    def setup(store: Store, db: Any) -> None:
        db.conn.execute("UPDATE services SET hours = ? WHERE id = ?", (hours, closed))
        db.conn.execute("UPDATE services SET quota_walkin = 0 WHERE id = ?", (full,))

    def restore(store: Store, db: Any) -> None:
        always = json.dumps({d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        db.conn.execute("UPDATE services SET hours = ?, quota_walkin = NULL WHERE id IN (?, ?, ?)",
                        (always, closed, full, later))

    kiosk = server.token("kiosk", "Kios tutup")
    with_store(server, setup)
    try:
        page = open_kiosk(browser, server, kiosk)
        page.click("[data-action=take]")
        page.click("#tenant-list button:has-text('Kantor Pertanahan')")
        screen(page, "services")
        closed_button = page.locator(f"[data-service='{closed}']")
        full_button = page.locator(f"[data-service='{full}']")
        assert closed_button.get_attribute("aria-disabled") == "true"
        assert "Tutup" in closed_button.inner_text() and f"{opening.hour:02d}.00" in closed_button.inner_text()
        assert "Kuota hari ini habis" in full_button.inner_text()
        audit(page, "services closed/full")
        page.click("#btn-contrast")
        audit(page, "services closed/full hc")
        closed_button.click(force=True)  # aria-disabled, yet it answers: it says why and when
        page.wait_for_selector("#k-dialog-backdrop:not([hidden])")
        assert page.inner_text("#k-dialog-title") == "Layanan sedang tutup"
        audit(page, "closed dialog hc")
        page.keyboard.press("Enter")
        page.wait_for_selector("#k-dialog-backdrop", state="hidden")
        page.click("#btn-lang")
        full_button.click(force=True)
        assert page.inner_text("#k-dialog-title") == "The quota is full"
        audit(page, "quota dialog en hc")
        page.keyboard.press("0")
        screen(page, "services")
        # AD closes while the visitor answers the priority question: the API refuses, the page explains
        page.click(f"[data-service='{later}']")
        screen(page, "priority")
        with_store(server, lambda s, db: db.conn.execute("UPDATE services SET hours = ? WHERE id = ?",
                                                         (hours, later)))
        page.click("[data-reason='']")
        page.wait_for_selector("#k-dialog-backdrop:not([hidden])")
        assert page.inner_text("#k-dialog-title") == "This service is closed"
        audit(page, "refused by the API en hc")
        page.click("#k-dialog-actions button")
        screen(page, "services")
        assert page.locator(f"[data-service='{later}']").get_attribute("aria-disabled") == "true"
        close(page)
    finally:
        with_store(server, restore)


# ------------------------------------------------------------------- booking


def book(server: LiveServer, admin: str, code: str) -> None:
    slot = datetime.now(JAKARTA).replace(microsecond=0).isoformat()
    body = {"code": code, "service_id": service_id(server, "T"), "slot_start": slot, "name": "Sari"}
    response = server.api("POST", "/api/v1/bookings", admin, json=body)
    assert response.status_code == 201, response.text


def test_booking_check_in_typed_on_screen_and_scanned(browser: Any, server: LiveServer) -> None:
    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios booking")
    book(server, admin, "BK7Q2")
    book(server, admin, "SCAN88X1")
    book(server, admin, "URLQR123")
    page = open_kiosk(browser, server, kiosk)
    page.click("[data-action=booking]")
    screen(page, "booking")
    audit(page, "booking")
    for key in "BK7Q2":
        page.click(f"#booking-keys [data-key='{key}']")
    assert page.input_value("#booking-code") == "BK7Q2"
    page.click("#booking-submit")
    screen(page, "ticket")
    assert page.inner_text("#t-number").startswith("T")
    assert page.inner_text("#t-service") == "Pendaftaran NPWP"
    page.click("[data-action=done]")
    screen(page, "start")
    # a barcode scanner types the code fast and ends with Enter, on the start screen
    page.keyboard.type("scan88x1", delay=8)
    page.keyboard.press("Enter")
    screen(page, "ticket")
    page.click("[data-action=done]")
    # a booking QR may hold an address: the code is its last part, and "/" is not the language key there
    page.keyboard.type("https://mppdigital.example/booking/URLQR123", delay=5)
    page.keyboard.press("Enter")
    screen(page, "ticket")
    assert page.evaluate("() => document.documentElement.lang") == "id"
    page.click("[data-action=done]")
    # a used code and an unknown code are explained
    page.keyboard.type("SCAN88X1", delay=8)
    page.keyboard.press("Enter")
    page.wait_for_selector("#k-dialog-backdrop:not([hidden])")
    assert "sudah dipakai" in page.inner_text("#k-dialog-text")
    audit(page, "booking used")
    page.keyboard.press("1")
    screen(page, "booking")
    page.fill("#booking-code", "NOPE1234")
    page.keyboard.press("Enter")
    page.wait_for_selector("#k-dialog-backdrop:not([hidden])")
    assert "tidak dikenal" in page.inner_text("#k-dialog-text")
    page.keyboard.press("Enter")
    page.fill("#booking-code", "AB")
    page.click("#booking-submit")
    assert "4 sampai 32" in page.inner_text("#booking-error")
    audit(page, "booking too short")
    close(page)


# ----------------------------------------------------------------- paper out


def test_paper_out_shows_the_ticket_large_to_photograph(browser: Any, server: LiveServer) -> None:
    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios tanpa kertas")
    kiosk_id = with_store(server, lambda s, db: db.conn.execute("SELECT MAX(id) FROM tokens").fetchone()[0])
    response = server.api("PUT", f"/api/v1/kiosks/{kiosk_id}/printer", admin,
                          json={"printer_uri": "virtual:browser-paper?fault=paper_out"})
    assert response.status_code == 200, response.text
    for lang, contrast in (("id", False), ("en", True)):
        page = open_kiosk(browser, server, kiosk, (1080, 1920))
        if lang == "en":
            page.click("#btn-lang")
        if contrast:
            page.click("#btn-contrast")
        page.click("[data-action=take]")
        page.locator("#tenant-list button").first.click()
        page.locator("#service-list button").nth(2).click()
        page.click("[data-reason='']")
        screen(page, "ticket")
        page.wait_for_selector("#t-fallback:not([hidden])", timeout=10000)
        title = {"id": "Foto layar ini", "en": "Take a photo of this screen"}[lang]
        assert page.inner_text("#t-fallback-title") == title
        assert page.is_hidden("#t-print")
        page.wait_for_function("() => document.getElementById('t-qr').naturalWidth > 0")  # the QR code is drawn
        seconds_left = int(re.search(r"\d+", page.inner_text("#idle-text")).group(0))
        assert seconds_left > 60  # time to take the photo
        audit(page, f"paper out [{lang}{' hc' if contrast else ''}]")
        close(page)


# --------------------------------------------------------- keyboard, switch


def test_keyboard_and_keypad_only(browser: Any, server: LiveServer, prints: Path) -> None:
    kiosk = server.token("kiosk", "Kios papan angka")
    page = open_kiosk(browser, server, kiosk)
    page.keyboard.press("1")
    screen(page, "tenants")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.dataset.tenant") == "3"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => Number(document.activeElement.dataset.tenant)") > 3
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    screen(page, "services")
    assert page.inner_text("#services-tenant") == "BPJS Kesehatan"
    page.keyboard.press("2")
    screen(page, "priority")
    page.keyboard.press("0")
    screen(page, "services")
    assert page.evaluate("() => document.activeElement.dataset.service") is not None  # focus kept on the service
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    screen(page, "priority")
    page.keyboard.press("/")  # language
    assert page.inner_text("#h-priority") == "Do you need priority service?"
    page.keyboard.press("3")  # elderly
    screen(page, "ticket")
    page.wait_for_selector("#t-print.k-ok", timeout=10000)
    number = page.inner_text("#t-number")
    assert number in printed_numbers(prints)
    audit(page, "ticket by keypad")
    page.keyboard.press("1")  # done
    screen(page, "start")
    close(page)


def test_single_switch_scanning(browser: Any, server: LiveServer) -> None:
    kiosk = server.token("kiosk", "Kios saklar")
    page = open_kiosk(browser, server, kiosk)
    for _ in range(20):  # Tab to the switch-scanning button, as a helper would
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "btn-scan":
            break
    page.keyboard.press("Enter")
    assert page.get_attribute("#btn-scan", "aria-pressed") == "true"
    # the focus now steps by itself; the switch (Space) picks what is highlighted
    page.wait_for_function("() => document.activeElement.dataset.action === 'take'", timeout=15000)
    page.keyboard.press("Space")
    screen(page, "tenants")
    page.wait_for_function("() => document.activeElement.dataset.tenant === '2'", timeout=15000)
    page.keyboard.press("Space")
    screen(page, "services")
    audit(page, "switch scanning")
    close(page)


# -------------------------------------------------------------- double tap


def test_a_second_tap_of_the_same_service_asks_first(browser: Any, server: LiveServer, prints: Path) -> None:
    kiosk = server.token("kiosk", "Kios dobel")
    page = open_kiosk(browser, server, kiosk)

    def take_ksi() -> None:
        page.click("[data-action=take]")
        page.click("#tenant-list button:has-text('Polres')")
        page.click("#service-list button:has-text('Perpanjangan SKCK')")
        page.click("[data-reason='']")

    take_ksi()
    screen(page, "ticket")
    first = page.inner_text("#t-number")
    page.click("[data-action=done]")
    # The ticket's bytes reach the printer just after its screen shows: count once they have.
    count = len(wait_for(lambda: first in printed_numbers(prints) and printed_numbers(prints), timeout=15))
    take_ksi()
    page.wait_for_selector("#k-dialog-backdrop:not([hidden])")
    assert first in page.inner_text("#k-dialog-text")
    audit(page, "double tap question")
    page.keyboard.press("1")  # no
    page.wait_for_selector("#k-dialog-backdrop", state="hidden")
    assert page.is_visible("#s-priority") and len(printed_numbers(prints)) == count
    page.click("[data-reason='']")
    page.click("#k-dialog-actions button:nth-child(2)")  # yes, a new number
    screen(page, "ticket")
    assert page.inner_text("#t-number") != first
    close(page)


# ------------------------------------------------------------------- speech


def test_speech_mode_reads_the_screen_and_the_focused_option(browser: Any, server: LiveServer) -> None:
    kiosk = server.token("kiosk", "Kios suara")
    page = open_kiosk(browser, server, kiosk)
    heard: list[tuple[str, int, str]] = []
    page.on("response", lambda r: "/kiosk/speech/" in r.url and heard.append(
        (r.url, r.status, r.headers.get("content-type", ""))))
    page.keyboard.press("*")
    assert page.get_attribute("#btn-speech", "aria-pressed") == "true"
    page.wait_for_function("() => document.getElementById('k-voice').src.includes('ui.speech_on')")
    page.keyboard.press("1")
    screen(page, "tenants")  # the screen is read: its instructions and the first option
    wait_until(page, lambda: any("ui.say_tenants" in url and "tenant.1" in url for url, *_ in heard))
    page.keyboard.press("ArrowRight")  # the focused option is read: Kantor Imigrasi
    wait_until(page, lambda: any("tenant.2" in url for url, *_ in heard))
    for url, status, kind in heard:
        assert status == 200 and kind == "audio/wav", url
    wav = page.request.get(heard[-1][0])
    assert wav.status == 200 and wav.body()[:4] == b"RIFF" and len(wav.body()) > 10000
    audit(page, "speech mode")
    # only the page's own texts can be spoken
    for keys in ("text.hello", "ui.nope", "service.999999", "ui.welcome,,<script>"):
        refused = page.request.get(f"{server.url}/kiosk/speech/id.wav?keys={keys}")
        assert refused.status == 400, keys
    assert page.request.get(f"{server.url}/kiosk/speech/xx.wav?keys=ui.welcome").status == 404
    cached = list((server.data_dir / "cache" / "kiosk-speech").glob("*.wav"))
    assert cached
    close(page)


# --------------------------------------------------------------------- idle


def test_idle_time_warns_can_be_extended_and_returns_to_the_start(browser: Any, server: LiveServer) -> None:
    kiosk = server.token("kiosk", "Kios diam")
    with_store(server, lambda s, db: s.set_setting(db, "kiosk_idle_seconds", 6))
    try:
        page = open_kiosk(browser, server, kiosk)
    finally:
        with_store(server, lambda s, db: s.set_setting(db, "kiosk_idle_seconds", 30))
    page.click("#btn-lang")
    page.click("#btn-text")
    page.click("[data-action=take]")
    screen(page, "tenants")
    assert "6" in page.inner_text("#idle-text")
    page.wait_for_selector("#idle-warning:not([hidden])", timeout=8000)
    audit(page, "idle warning")
    page.click("#btn-extend")
    assert page.is_hidden("#idle-warning")
    page.wait_for_selector("#s-start:not([hidden])", timeout=10000)
    assert page.evaluate("() => document.documentElement.lang") == "id"
    assert page.get_attribute("#btn-text", "aria-pressed") == "false"
    close(page)


# ------------------------------------------------------------------ layouts


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_kiosk_sizes_large_targets_and_low_reach(browser: Any, server: LiveServer, size: tuple[int, int],
                                                 tmp_path: Path) -> None:
    kiosk = server.token("kiosk", f"Kios {size}")
    page = open_kiosk(browser, server, kiosk, size)
    page.click("[data-action=take]")
    screen(page, "tenants")
    page.screenshot(path=str(tmp_path / "tenants.png"))
    small = page.evaluate("""() => [...document.querySelectorAll('button, input')]
        .filter(b => b.offsetParent !== null)
        .map(b => [b.textContent.trim().slice(0, 20), b.getBoundingClientRect()])
        .filter(([, r]) => r.width < 44 || r.height < 44).map(([t]) => t)""")
    assert small == []
    page.click("#btn-reach")
    page.wait_for_timeout(100)
    high = page.evaluate(f"""() => [...document.querySelectorAll('button, input')]
        .filter(b => b.offsetParent !== null)
        .map(b => [b.textContent.trim().slice(0, 20), b.getBoundingClientRect().top])
        .filter(([, top]) => top < {size[1]} * 0.4).map(([t]) => t)""")
    assert high == []
    audit(page, f"low reach {size}")
    page.screenshot(path=str(tmp_path / "low-reach.png"))
    close(page)
