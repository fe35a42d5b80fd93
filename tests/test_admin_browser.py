"""The admin pages in Chromium against a real server: forms walked with refused
input, pairing a kiosk by the code on its own screen (a second browser plays the
device), revocation, and axe-core (WCAG 2.2 A/AA) on every admin page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from antre import auth
from antre.store import Store
from tests.support.browser import assert_no_axe_violations

pytestmark = pytest.mark.browser

PASSWORD = "kata-sandi-panjang"


@pytest.fixture(scope="module")
def server(module_live_server: Any) -> Any:
    store = Store(module_live_server.data_dir)
    try:
        auth.create_user(store, "boss", PASSWORD, "admin", display_name="Bu Rina")
        auth.create_user(store, "spv", PASSWORD, "supervisor")
    finally:
        store.close()
    return module_live_server


def new_page(browser: Any, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID",
                                  timezone_id="Asia/Jakarta", **options)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def log_in(page: Any, base: str, username: str = "boss") -> None:
    page.goto(base + "/admin/login")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/?$"))


@pytest.fixture
def admin(browser: Any, server: Any) -> Iterator[Any]:
    page = new_page(browser)
    log_in(page, server.url)
    yield page
    page.context.close()


def expect_refusal(page: Any, field_id: str, words: str) -> None:
    """The error summary is shown and focused, links to the field, and the field is marked."""
    summary = page.locator(".error-summary:not([hidden])")
    summary.wait_for()
    assert words in summary.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('error-summary')",
                           timeout=5000)
    assert summary.locator(f'a[href="#{field_id}"]').count() == 1
    field = page.locator(f"#{field_id}")
    if field.evaluate("e => e.tagName") in ("INPUT", "SELECT", "TEXTAREA"):
        assert field.get_attribute("aria-invalid") == "true"


def flash(page: Any) -> str:
    return page.locator(".flash").first.inner_text()


def test_walk_the_admin_forms_with_refused_input(admin: Any, server: Any) -> None:
    page, base = admin, server.url
    # Agencies: a taken code is refused, then a good one accepted.
    page.goto(base + "/admin/tenants")
    page.fill("#f-code", "dukcapil")
    page.fill("#f-name_id", "Dukcapil Kedua")
    page.click("#h-new ~ form button[type=submit]")
    expect_refusal(page, "f-code", "sudah dipakai")
    assert page.input_value("#f-name_id") == "Dukcapil Kedua"
    assert_no_axe_violations(page, "tenant form with an error")
    page.fill("#f-code", "dinsos")
    page.fill("#f-name_id", "Dinas Sosial")
    page.click("#h-new ~ form button[type=submit]")
    assert "Dinas Sosial ditambahkan" in flash(page)

    # A service with half-filled hours, then fixed (Monday's hours copied to the week).
    page.goto(base + "/admin/services/new")
    page.select_option("#f-tenant_id", label="Dinas Sosial")
    page.fill("#f-code", "bs")
    page.fill("#f-name_id", "Bantuan Sosial")
    page.fill("#f-h_mon_1_open", "08.00")
    page.fill("#f-h_mon_1_close", "")
    page.click("#service-form button[type=submit]")
    expect_refusal(page, "f-h_mon_1_close", "belum lengkap")
    assert_no_axe_violations(page, "service form with an error")
    page.fill("#f-h_mon_1_close", "12:00")
    page.click("#copy-monday")
    assert page.input_value("#f-h_fri_1_close") == "12:00"
    page.check("input[name=priority_kind][value=interleave]")
    page.fill("#f-priority_every", "3")
    page.fill("#f-quota_walkin", "40")
    page.click("#service-form button[type=submit]")
    assert "BS Bantuan Sosial ditambahkan" in flash(page)
    row = page.locator("table.data tr", has_text="Bantuan Sosial")
    assert "40 / –" in row.inner_text() and "1 setiap 3 nomor" in row.inner_text()

    # A counter without services is refused, then serves the new service.
    page.goto(base + "/admin/counters/new")
    page.fill("#f-name", "Loket 27")
    page.fill("#f-zone", "Lantai 3")
    page.click("main form.card button[type=submit]")
    expect_refusal(page, "f-service_ids", "minimal satu layanan")
    page.check("label.choice:has-text('Bantuan Sosial') input")
    page.click("main form.card button[type=submit]")
    assert "Loket 27 ditambahkan" in flash(page)
    assert "lantai-3" in page.locator("tr", has_text="Loket 27").inner_text()

    # A staff account: passwords that differ, then a good one.
    page.goto(base + "/admin/users/new")
    page.fill("#f-username", "sari")
    page.check("input[name=role][value=counter]")
    page.select_option("#f-tenant_id", label="Dinas Sosial")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password_confirm", PASSWORD + "!")
    page.click("main form.card button[type=submit]")
    expect_refusal(page, "f-password_confirm", "tidak sama")
    assert page.input_value("#f-password") == "", "a refused form never echoes a password"
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password_confirm", PASSWORD)
    page.click("main form.card button[type=submit]")
    assert "Akun sari dibuat" in flash(page)

    # Settings: an idle time out of range, then saved.
    page.goto(base + "/admin/settings")
    page.fill("#f-kiosk_idle_seconds", "5")
    page.click("main form button[type=submit]")
    expect_refusal(page, "f-kiosk_idle_seconds", "10–600")
    page.fill("#f-kiosk_idle_seconds", "45")
    page.fill("#f-ticket_footer", "Terima kasih atas kunjungan Anda")
    page.click("main form button[type=submit]")
    assert "Pengaturan disimpan" in flash(page)

    # Voice: a template without {counter} is refused; a preview shows the spoken sentence.
    page.goto(base + "/admin/voice")
    page.fill("#f-template_id", "Nomor {number}")
    page.click("button[value=save]")
    expect_refusal(page, "f-template_id", "{counter}")
    page.fill("#f-template_id", "Nomor antrian {number}, silakan menuju {counter}")
    page.check("input[name=number_style][value=digits]")
    page.click("button[value=preview]")
    assert "Nomor antrian a, nol satu dua, silakan menuju loket tiga" in page.locator("ul.preview").inner_text()
    page.click("button[value=save]")
    assert "Pengaturan disimpan" in flash(page)

    # Running text.
    page.goto(base + "/admin/running-text")
    page.fill("#f-running_text", "Loket 5 istirahat pukul 12.00–13.00.")
    assert page.locator("#rt-count").inner_text().startswith("36 /")
    page.click("main form button[type=submit]")
    assert "Teks berjalan disimpan" in flash(page)

    # Webhooks through the API: a bad URL is refused in the page, a good one listed.
    page.goto(base + "/admin/webhooks")
    page.locator("#wh-table tbody tr").first.wait_for()
    page.fill("#wh-url", "ftp://mpp.example/hook")
    page.click("#wh-generate")
    assert len(page.input_value("#wh-secret")) == 48
    page.click("#wh-form button[type=submit]")
    page.locator("#wh-error").wait_for()
    assert "http(s)" in page.locator("#wh-error").inner_text()
    assert page.get_attribute("#wh-url", "aria-invalid") == "true"
    assert_no_axe_violations(page, "webhooks with an error")
    page.fill("#wh-url", "http://127.0.0.1:9/antre")
    page.click("#wh-form button[type=submit]")
    hook = page.locator("#wh-table tbody tr", has_text="http://127.0.0.1:9/antre")
    hook.wait_for()
    hook.locator("button", has_text="Jeda").click()
    page.locator("#wh-status", has_text="Webhook dijeda.").wait_for()
    assert "Dijeda" in hook.inner_text()
    hook.locator("button", has_text="Hapus").click()  # the confirm dialog is accepted
    page.locator("#wh-status", has_text="Webhook dihapus.").wait_for()
    assert hook.count() == 0

    # Every change above is in the audit log, under this admin, and the chain verifies.
    page.goto(base + "/admin/audit?actor=boss")
    text = page.locator("table.audit").inner_text()
    for label in ("Instansi ditambahkan", "Layanan ditambahkan", "Loket ditambahkan", "Akun dibuat",
                  "Pengaturan diubah", "Webhook ditambahkan", "Webhook dihapus"):
        assert label in text, label
    page.click("text=Verifikasi rantai hash >> nth=-1")
    assert "Rantai hash utuh." in page.locator("#verify-result").inner_text()


def test_pair_a_kiosk_by_the_code_on_its_screen(browser: Any, admin: Any, server: Any) -> None:
    device = new_page(browser)
    try:
        device.goto(server.url + "/kiosk")
        code_el = device.locator("#pair-code")
        code_el.wait_for()
        device.wait_for_function("document.getElementById('pair-code').textContent.length === 7")
        code = code_el.inner_text().replace(" ", "")
        assert re.fullmatch(r"\d{6}", code)
        assert_no_axe_violations(device, "unpaired kiosk page with its pairing code")

        page = admin
        page.goto(server.url + "/admin/devices")
        page.fill("#f-pair-code", "123 45")
        page.fill("#f-pair-name", "Kiosk lobi")
        page.click("#h-pair ~ form button[type=submit]")
        expect_refusal(page, "f-pair-code", "6 angka")
        page.fill("#f-pair-code", code)
        page.check("input[name=role][value=display]")
        page.click("#h-pair ~ form button[type=submit]")
        expect_refusal(page, "f-pair-role", "pilih peran itu")
        assert_no_axe_violations(page, "devices page with an error")
        page.fill("#f-pair-code", code)
        page.check("input[name=role][value=kiosk]")
        page.click("#h-pair ~ form button[type=submit]")
        assert "Kiosk lobi dipasangkan" in flash(page)

        # The device polls, gets paired and reloads into the kiosk page by itself.
        device.locator("#unpaired").wait_for(state="detached", timeout=15000)
        assert device.url.endswith("/kiosk")

        # Revoked: the device's socket is dropped and its page reloads to the pairing screen by itself.
        device.wait_for_function("document.querySelector('script[src*=\"kiosk\"]') !== null")
        page.locator("tr", has_text="Kiosk lobi").locator("button", has_text="Cabut").click()
        assert "dicabut" in flash(page)
        device.locator("#unpaired").wait_for(timeout=10000)
        device.locator("#pair-code").wait_for()
    finally:
        device.context.close()


def test_overview_follows_the_queue_live(admin: Any, server: Any) -> None:
    page = admin
    page.goto(server.url + "/admin/")
    page.locator("#live-status", has_text="Tersambung").wait_for()
    waiting = page.locator('tr[data-service="2"] .s-waiting')
    before = int(waiting.inner_text())
    kiosk = server.token("kiosk", "Kiosk uji")
    for _ in range(2):
        assert server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 2}).status_code == 201
    page.wait_for_function(
        f"document.querySelector('tr[data-service=\"2\"] .s-waiting').textContent === '{before + 2}'",
        timeout=5000)
    counter = server.token("counter", "Loket uji")
    called = server.api("POST", "/api/v1/counters/2/call-next", counter).json()
    page.locator('tr[data-counter="2"] .c-number', has_text=called["number"]).wait_for(timeout=5000)


#: one of each admin page (the forms' error states are audited in the walks above)
ADMIN_PAGES = ["/admin/", "/admin/tenants", "/admin/tenants/1", "/admin/services", "/admin/services/new",
               "/admin/counters", "/admin/counters/1", "/admin/users", "/admin/users/new", "/admin/users/1",
               "/admin/devices", "/admin/settings", "/admin/voice", "/admin/running-text", "/admin/webhooks",
               "/admin/audit", "/admin/tenants/999"]


def test_no_wcag_violation_on_any_admin_page(admin: Any, server: Any) -> None:
    page = admin
    for path in ADMIN_PAGES:
        page.goto(server.url + path)
        assert_no_axe_violations(page, path)
    page.goto(server.url + "/admin/services/1?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Opening hours" in page.locator("main").inner_text()
    assert_no_axe_violations(page, "service form (English)")
    page.goto(server.url + "/admin/?lang=id")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin/", "/admin/services/1", "/admin/devices", "/admin/audit"):
        page.goto(server.url + path)
        wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40)).slice(0, 5)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} scrolls sideways: {wide}"
    assert_no_axe_violations(page, "audit page on a phone")


def test_login_page_and_supervisor_refusal(browser: Any, server: Any) -> None:
    page = new_page(browser)
    try:
        page.goto(server.url + "/admin/devices")
        assert "/admin/login" in page.url
        page.fill("#f-username", "spv")
        page.fill("#f-password", "salah-sekali-ini")
        page.click("form.card button[type=submit]")
        assert "salah" in page.locator(".error-summary").inner_text()
        assert_no_axe_violations(page, "log-in page with an error")
        page.fill("#f-password", PASSWORD)
        page.click("form.card button[type=submit]")
        page.wait_for_url(re.compile(r".*/admin/devices$"))
        assert page.locator("h1").inner_text() == "Tidak diizinkan"
        assert_no_axe_violations(page, "403 page")
        nav = page.locator("nav.admin-nav").inner_text()
        assert "Log audit" in nav and "Perangkat" not in nav and "Akun petugas" not in nav
    finally:
        page.context.close()
