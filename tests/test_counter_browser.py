"""The counter screens in Chromium against a real server: log-in, take a counter, work by mouse and by
keyboard only, transfer, call a number, pause, lost connection, two clerks at once; axe-core everywhere."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antre.auth import create_user
from antre.store import Store
from tests.support.browser import assert_no_axe_violations
from tests.support.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "kata-sandi-uji-123"
BPJSKES, BPJSTK, SAMSAT, POLRES, KPP = 3, 4, 5, 6, 7  # demo tenant ids
SERVICE = {"E": 9, "F": 10, "H": 12, "L": 15, "M": 16, "S": 19, "U": 23}  # demo service ids by prefix
_names = itertools.count(1)


def add_user(data_dir: Path, role: str = "counter", tenant_id: int | None = None, display_name: str = "") -> str:
    username = f"petugas{next(_names)}"
    store = Store(data_dir)
    try:
        create_user(store, username, PASSWORD, role, display_name=display_name or username.title(),
                    tenant_id=tenant_id)
    finally:
        store.close()
    return username


@pytest.fixture(scope="module")
def server(module_live_server: LiveServer) -> LiveServer:
    return module_live_server


@pytest.fixture(scope="module")
def kiosk(server: LiveServer) -> str:
    return server.token("kiosk")


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> str:
    return server.token("admin")


def issue(server: LiveServer, kiosk: str, prefix: str, priority: bool = False) -> dict[str, Any]:
    r = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": SERVICE[prefix], "priority": priority})
    assert r.status_code == 201, r.text
    return r.json()


def log_in(page: Any, server: LiveServer, username: str, lang: str = "id") -> None:
    page.goto(f"{server.url}/counter?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/counter/choose")


def take(page: Any, counter: str) -> None:
    page.click(f"button:text-is('Ambil {counter}')")
    page.wait_for_selector("main.work:not([data-state=loading])")


def state(page: Any, wanted: str) -> None:
    """Wait until the work screen shows ``wanted`` and takes presses again."""
    page.wait_for_selector(f"main.work[data-state={wanted}] #actions:not([aria-busy])")


def current_number(page: Any) -> str:
    return page.text_content("#current-number")


def called_events(server: LiveServer, admin: str) -> list[dict[str, Any]]:
    events = server.api("GET", "/api/v1/events?limit=1000", admin).json()["events"]
    return [e for e in events if e["type"] == "ticket.called"]


@pytest.fixture
def second_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    yield context.new_page()
    context.close()


def test_log_in_refuses_a_wrong_password_then_locks_the_account(page, server):
    username = add_user(server.data_dir, tenant_id=BPJSKES)
    page.goto(server.url + "/counter")
    assert_no_axe_violations(page, "log-in page")
    page.fill("#username", username)
    page.fill("#password", "bukan-kata-sandinya")
    page.click("#login-form button[type=submit]")
    assert "Nama pengguna atau kata sandi salah" in page.text_content("#login-error")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert_no_axe_violations(page, "log-in refused")
    for _ in range(4):
        page.fill("#password", "bukan-kata-sandinya")
        page.click("#login-form button[type=submit]")
    assert "Akun ini dikunci selama 15 menit" in page.text_content("#login-error")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    assert "dikunci" in page.text_content("#login-error")  # the right password waits out the lock too
    page.goto(server.url + "/counter?lang=en")
    assert page.text_content("h1") == "Counter staff log-in"
    assert_no_axe_violations(page, "log-in page (en)")


def test_work_a_queue_by_mouse_with_transfer_to_another_counter(page, server, kiosk, admin):
    username = add_user(server.data_dir, tenant_id=BPJSKES, display_name="Sari Wulandari")
    tickets = [issue(server, kiosk, "E"), issue(server, kiosk, "F", priority=True), issue(server, kiosk, "E")]
    log_in(page, server, username)
    assert_no_axe_violations(page, "choose a counter")
    assert page.locator(".counter-card h3").all_text_contents() == ["Loket 7", "Loket 8"]
    take(page, "Loket 7")
    state(page, "idle")
    rows = page.locator("#waiting-rows tr")
    assert rows.count() == 3
    assert page.locator("#waiting-rows tr .badge-priority").count() == 1
    assert_no_axe_violations(page, "work screen, no ticket")

    page.click("#act-next")
    state(page, "called")
    assert current_number(page) == "F001"  # a priority head goes before the others
    assert page.is_visible("#current-priority")
    assert_no_axe_violations(page, "work screen, ticket called")
    page.click("#act-start")
    state(page, "serving")
    page.click("#act-finish")
    state(page, "idle")
    page.wait_for_function("document.getElementById('stat-served').textContent === '1'")

    page.click("#act-next")
    state(page, "called")
    first_e = current_number(page)
    page.click("#act-no_show")
    state(page, "idle")
    page.wait_for_function("document.getElementById('stat-no-show').textContent === '1'")

    page.click("#act-next")
    state(page, "called")
    moving = current_number(page)
    page.click("#act-transfer")
    page.wait_for_selector("#dlg-transfer:not([hidden])")
    assert_no_axe_violations(page, "transfer dialog")
    page.check("#transfer-mode-counter")
    page.select_option("#transfer-counter", label="Loket 8")
    page.click("#dlg-transfer button[type=submit]")
    state(page, "idle")
    assert page.is_hidden("#dlg-transfer")
    assert f"{moving} dialihkan." in page.text_content("#message")
    moved = next(t for t in tickets if t["number"] == moving)
    after = server.api("GET", f"/api/v1/tickets/{moved['id']}", admin).json()
    assert (after["number"], after["status"], after["service_id"]) == (moving, "waiting", SERVICE["E"])
    assert {first_e, moving} == {"E001", "E002"}
    # Loket 8 now calls it (it was sent there); Loket 7 no longer lists it.
    assert page.locator("#waiting-rows tr").count() == 0
    assert server.api("POST", "/api/v1/counters/8/call-next", server.token("counter")).json()["number"] == moving
    # A supervisor (here an admin token) releases the counter: the screen says so at once.
    released = server.api("POST", "/api/v1/counters/7/release", admin).json()["released"]
    assert released["user"]["display_name"] == "Sari Wulandari"
    page.wait_for_selector("#lost-note:not([hidden])")
    assert "tidak lagi dipegang oleh Anda" in page.text_content("#lost-text")
    assert page.get_attribute("#act-next", "aria-disabled") == "true"


def test_work_a_queue_by_keyboard_only(page, server, kiosk, admin):
    username = add_user(server.data_dir, tenant_id=SAMSAT)
    for _ in range(3):
        issue(server, kiosk, "L")
    page.goto(server.url + "/counter")
    page.keyboard.type(username)  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/counter/choose")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Ambil Loket 11":
            break
    page.keyboard.press("Enter")
    state(page, "idle")
    assert "P" in page.text_content("#act-next kbd")  # the shortcut is shown on the button

    page.keyboard.press("p")
    state(page, "called")
    assert current_number(page) == "L001"
    page.keyboard.press("u")
    page.wait_for_function("document.getElementById('message').textContent.indexOf('dipanggil ulang') >= 0")
    page.keyboard.press("m")
    state(page, "serving")
    page.keyboard.press("s")
    state(page, "idle")

    # Call a specific number, out of turn, with a reason.
    page.keyboard.press("n")
    page.wait_for_selector("#dlg-call_specific:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "call-number"
    assert_no_axe_violations(page, "call-a-number dialog")
    page.keyboard.type("l003")
    page.keyboard.press("Enter")  # no reason yet: refused in the dialog
    assert "alasan" in page.text_content("#dlg-call_specific .dialog-error").lower()
    assert page.evaluate("document.activeElement.id") == "call-reason"  # the focus went where it is missing
    page.keyboard.type("Lansia, dahulukan")
    page.keyboard.press("Enter")
    state(page, "called")
    assert current_number(page) == "L003"
    store = Store(server.data_dir)
    try:
        with store.read() as db:
            row = db.conn.execute("SELECT actor, details FROM audit WHERE action = 'ticket.called' "
                                  "AND details LIKE '%L003%' ORDER BY id DESC").fetchone()
    finally:
        store.close()
    details = json.loads(row["details"])
    assert details["reason"] == "Lansia, dahulukan" and details["out_of_order"] is True
    assert row["actor"] == f"counter:{username}"

    # Transfer to another service (the first offered: the same agency's next service, M).
    page.keyboard.press("a")
    page.wait_for_selector("#dlg-transfer:not([hidden])")
    page.keyboard.press("Tab")  # from the mode radios to the service list
    assert page.evaluate("document.activeElement.id") == "transfer-service"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Alihkan"
    state(page, "idle")
    waiting = page.locator("#waiting-rows tr").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert sorted(waiting) == ["L002", "L003"]  # still L003: the number is kept, now in the M queue
    l003 = server.api("GET", "/api/v1/status", admin).json()
    assert next(s for s in l003["services"] if s["code"] == "M")["waiting"] == 1

    # Pause with a reason, then resume; Escape closes a dialog and gives the focus back.
    page.keyboard.press("i")
    page.wait_for_selector("#dlg-pause:not([hidden])")
    assert_no_axe_violations(page, "pause dialog")
    page.keyboard.press("Escape")
    assert page.is_hidden("#dlg-pause")
    # Escape and the next shortcut at once, before the browser moves the focus off the hidden dialog
    # on its own: the shortcut must not go to the dialog's field (where it would count as typing).
    reopened = page.evaluate("""() => {
        const key = (k) => document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: k, bubbles: true}));
        key("i"); key("Escape"); key("i");
        return !document.getElementById("dlg-pause").hidden;
    }""")
    assert reopened, "the shortcut right after Escape went to the hidden dialog"
    page.keyboard.press("Escape")
    assert page.is_hidden("#dlg-pause")
    page.keyboard.press("i")
    page.keyboard.press("Enter")
    state(page, "paused")
    assert "Istirahat" in page.text_content("#paused-reason")
    assert_no_axe_violations(page, "paused counter")
    page.keyboard.press("p")  # not available while paused: nothing is called
    assert "Tidak tersedia" in page.text_content("#error")
    page.keyboard.press("l")
    state(page, "idle")
    page.keyboard.press("p")
    state(page, "called")


def test_a_double_click_or_a_second_tab_never_calls_two_tickets(page, browser, server, kiosk, admin):
    username = add_user(server.data_dir, tenant_id=POLRES)
    for _ in range(4):
        issue(server, kiosk, "S")
    log_in(page, server, username)
    take(page, "Loket 14")
    before = len(called_events(server, admin))
    page.dblclick("#act-next")
    state(page, "called")
    page.wait_for_timeout(300)
    assert len(called_events(server, admin)) == before + 1

    tab = page.context.new_page()  # same browser, same session
    tab.goto(server.url + "/counter/14")
    tab.wait_for_function(f"document.getElementById('current-number').textContent === '{current_number(page)}'")
    at = page.evaluate("Date.now()") + 500
    for p in (page, tab):
        p.evaluate("at => setTimeout(() => document.getElementById('act-next').click(), at - Date.now())", at)
    page.wait_for_function("document.getElementById('current-number').textContent === 'S002'")
    tab.wait_for_function("document.getElementById('current-number').textContent === 'S002'")
    page.wait_for_timeout(300)
    assert len(called_events(server, admin)) == before + 2  # one of the two presses was refused
    refusals = [p.get_attribute("#error", "data-code") for p in (page, tab)]
    assert refusals.count("stale_state") == 1, refusals


def test_two_clerks_on_two_counters_calling_at_the_same_moment(page, second_page, server, kiosk, admin):
    first, second = add_user(server.data_dir, tenant_id=KPP), add_user(server.data_dir, tenant_id=KPP)
    for _ in range(6):
        issue(server, kiosk, "U")  # Loket 16 (T, U) and Loket 17 (U, V) both serve U
    log_in(page, server, first)
    take(page, "Loket 16")
    log_in(second_page, server, second)
    take(second_page, "Loket 17")
    seen: list[str] = []
    for _ in range(3):
        previous = [current_number(p) if p.is_visible("#current-number") else "" for p in (page, second_page)]
        at = page.evaluate("Date.now()") + 400
        for p in (page, second_page):
            p.evaluate("at => setTimeout(() => document.getElementById('act-next').click(), at - Date.now())", at)
        for p, prev in zip((page, second_page), previous, strict=True):
            p.wait_for_function(
                "prev => { const n = document.getElementById('current-number');"
                " return document.querySelector('main.work').dataset.state === 'called' && n.textContent !== prev; }",
                arg=prev,
            )
        pair = [current_number(p) for p in (page, second_page)]
        assert pair[0] != pair[1]
        seen += pair
    assert len(set(seen)) == 6
    per_ticket = Counter(e["ticket"]["number"] for e in called_events(server, admin)
                         if e["ticket"]["number"].startswith("U"))
    assert set(per_ticket.values()) == {1}


def test_lost_connection_is_shown_and_recovered_after_a_restart(page, server, kiosk):
    """The server dies (SIGKILL, as in a power cut) and comes back on the same data dir (the module's last test)."""
    username = add_user(server.data_dir, tenant_id=BPJSTK)
    log_in(page, server, username)
    take(page, "Loket 9")
    state(page, "idle")
    server.kill()
    page.wait_for_selector("#conn-banner:not([hidden])", timeout=15000)
    assert "Koneksi ke server terputus" in page.text_content("#conn-banner")
    assert_no_axe_violations(page, "connection lost")
    server.start()
    page.wait_for_selector("#conn-banner[hidden]", state="attached", timeout=20000)
    page.wait_for_function("document.getElementById('message').textContent.indexOf('Tersambung kembali') >= 0")
    # Live again (the socket re-subscribed) and still logged in (the session outlived the restart).
    r = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": SERVICE["H"]})
    assert r.status_code == 201
    page.wait_for_selector(f"#waiting-rows tr[data-number={r.json()['number']}]")
    page.keyboard.press("p")
    state(page, "called")
    assert current_number(page) == r.json()["number"]
