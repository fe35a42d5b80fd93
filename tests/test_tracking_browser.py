"""A visitor's phone follows a ticket from issue to call to survey (Playwright, Chromium,
phone viewport), with axe-core in every state and both languages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("ANTRE_SCREENSHOTS", "")) if os.environ.get("ANTRE_SCREENSHOTS") else None

#: record what the page asks of the phone: vibrations and sounds
INSTRUMENT = """
window.__vibrations = [];
Object.defineProperty(Navigator.prototype, "vibrate", {configurable: true, writable: true,
  value: function (pattern) { window.__vibrations.push(pattern); return true; }});
window.__plays = [];
const realPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__plays.push({src: this.currentSrc || this.src, muted: this.muted});
  return realPlay.call(this);
};
"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="id-ID", timezone_id="Asia/Jakarta",
                                  bypass_csp=True)  # axe-core is injected as an inline script
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"tracking-{name}.png"), full_page=True)


def check_both_languages(page: Any, state: str) -> None:
    """axe-core in Indonesian, then in English, then back (the toggle works without a reload)."""
    assert page.evaluate("document.documentElement.lang") == "id"
    assert_no_axe_violations(page, f"({state}, id)")
    shot(page, f"{state}-id")
    page.click("#tk-lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#tk-lang") == "Bahasa Indonesia"
    assert_no_axe_violations(page, f"({state}, en)")
    shot(page, f"{state}-en")
    page.click("#tk-lang")
    assert page.inner_text("#tk-lang") == "English"


def test_a_visitor_follows_a_ticket_from_issue_to_call_to_survey(module_live_server: Any, phone: Any) -> None:
    server = module_live_server
    kiosk, counter, admin = server.token("kiosk"), server.token("counter"), server.token("admin")
    ahead = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1}).json()
    mine = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1}).json()
    page = phone
    page.goto(mine["track_url"])

    # waiting: number, service, position, estimate, live connection
    page.wait_for_selector("#tk-conn[data-state='online']")
    assert page.inner_text("#tk-number") == mine["number"]
    assert page.inner_text("#tk-service") == "KTP Elektronik"
    assert page.inner_text("#tk-line1") == "Ada 1 orang di depan Anda"
    assert "Perkiraan waktu tunggu" in page.inner_text("#tk-line2")
    assert page.is_hidden("#tk-called")
    check_both_languages(page, "waiting")

    # the visitor allows sound and vibration (the tap phones require); a test chime plays
    page.tap("#tk-alerts")
    assert page.get_attribute("#tk-alerts", "aria-checked") == "true"
    assert page.inner_text("#tk-alerts-state") == "Aktif"
    assert page.evaluate("window.__vibrations") == [200]
    assert page.evaluate("window.__plays.length") == 1

    # the person ahead is called: the position moves live
    called = server.api("POST", "/api/v1/counters/1/call-next", counter).json()
    assert called["id"] == ahead["id"]
    # (pushed as ticket:position at once; the page's own poll would take 30 s)
    page.wait_for_function("document.getElementById('tk-line1').textContent === 'Anda berikutnya!'", timeout=10_000)

    # our number is called: unmistakable, vibrates, rings
    called = server.api("POST", "/api/v1/counters/1/call-next", counter).json()
    assert called["id"] == mine["id"]
    page.wait_for_selector("#tk-called", state="visible")
    assert page.inner_text("#tk-called-where") == "Silakan menuju Loket\u00a01"  # no break inside "Loket 1"
    assert page.evaluate("document.body.classList.contains('tk-called')")
    page.wait_for_function("window.__vibrations.length === 2")
    assert page.evaluate("window.__vibrations[1]") == [600, 250, 600, 250, 1000]
    page.wait_for_function("window.__plays.length >= 2")
    plays = page.evaluate("window.__plays")
    assert plays[-1]["src"].endswith("/t/chime.wav") and plays[-1]["muted"] is False
    assert mine["number"] in page.title() and "Loket 1" in page.title()
    page.wait_for_function("document.getElementById('tk-live').textContent.indexOf('Loket\\u00a01') >= 0")
    check_both_languages(page, "called")

    # a recall rings again
    vibrations = page.evaluate("window.__vibrations.length")
    server.api("POST", "/api/v1/counters/1/recall", counter)
    page.wait_for_function(f"window.__vibrations.length === {vibrations + 1}")

    # served: thanks, and the SKM survey
    server.api("POST", "/api/v1/counters/1/start", counter)
    page.wait_for_function("document.getElementById('tk-status-title').textContent === 'Sedang dilayani'")
    assert page.inner_text("#tk-line1") == "Anda sedang dilayani di Loket 1"
    check_both_languages(page, "serving")
    server.api("POST", "/api/v1/counters/1/finish", counter)
    page.wait_for_function("document.getElementById('tk-status-title').textContent === 'Selesai'")
    assert page.is_hidden("#tk-alerts-box") and page.is_hidden("#tk-conn")
    if page.query_selector("#tk-survey") is None:
        pytest.skip("no survey endpoint in this build: the page offers no survey")
    assert page.is_visible("#tk-survey")
    check_both_languages(page, "survey")

    # sending with answers missing says so and changes nothing
    page.click("#tk-survey-send")
    assert page.inner_text("#tk-survey-error") == "Mohon jawab semua pertanyaan."
    assert page.evaluate("document.activeElement.name") == "q1"
    assert page.evaluate("document.querySelectorAll('.tk-q.is-missing').length") == 9
    check_both_languages(page, "survey-error")
    for question, score in enumerate((4, 3, 4, 4, 3, 4, 4, 2, 3), start=1):
        page.tap(f"#tk-q{question} input[value='{score}']")
    page.fill("#tk-comment", "Petugas ramah, antrian tertib.")
    page.click("#tk-survey-send")
    page.wait_for_selector("#tk-survey-done", state="visible")
    assert page.inner_text("#tk-survey-done") == "Terima kasih atas penilaian Anda!"
    assert page.is_hidden("#tk-survey-form")
    check_both_languages(page, "survey-done")

    today = mine["issued_at"][:10]
    ikm = server.api("GET", f"/api/v1/reports/ikm?from={today}&to={today}", admin).json()
    assert ikm["responses"] == 1
    assert ikm["element_means"] == [4, 3, 4, 4, 3, 4, 4, 2, 3]

    # reloading keeps the thanks (one survey per ticket)
    page.reload()
    page.wait_for_selector("#tk-survey-done", state="visible")
    assert page.is_hidden("#tk-survey-form")


def test_a_page_that_was_away_catches_up_and_rings(module_live_server: Any, phone: Any) -> None:
    """A phone that lost its connection (or slept) learns of the call as soon as it is back."""
    server = module_live_server
    kiosk, counter = server.token("kiosk"), server.token("counter")
    server.api("POST", "/api/v1/counters/3/call-next", counter)  # counter 3 starts empty-handed
    mine = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 3}).json()
    page = phone
    page.goto(mine["track_url"])
    page.wait_for_selector("#tk-conn[data-state='online']")
    page.tap("#tk-alerts")
    page.evaluate("window.AntreTrack.socket.disconnect()")
    page.wait_for_selector("#tk-conn[data-state='offline']")
    server.api("POST", "/api/v1/counters/3/call-next", counter)
    assert page.is_hidden("#tk-called")  # it cannot know yet
    page.evaluate("window.AntreTrack.socket.connect()")  # back: the server sends the ticket's state
    page.wait_for_selector("#tk-called", state="visible", timeout=10_000)
    assert page.inner_text("#tk-called-where") == "Silakan menuju Loket\u00a03"
    page.wait_for_function("window.__vibrations.length === 2")
    # it rings once per call, not again for the same call on the next update
    page.evaluate("window.AntreTrack.refresh()")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__vibrations.length") == 2


def test_unknown_ticket_page_is_friendly_and_accessible(module_live_server: Any, phone: Any) -> None:
    response = phone.goto(module_live_server.url + "/t/thisTokenDoesNotExist")
    assert response.status == 404
    assert phone.inner_text("h1") == "Nomor antrian tidak ditemukan"
    assert phone.inner_text("h2") == "Ticket not found"
    assert_no_axe_violations(phone, "(not found)")
    shot(phone, "not-found")
