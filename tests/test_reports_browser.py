"""The report pages and the counter survey tablet in Chromium against a real server:
charts drawn, tables and CSV links present, the tablet answered by touch and by
keyboard, and axe-core (WCAG 2.2 A/AA) on every page and screen."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from antre import auth
from antre.demo import seed_demo
from antre.store import Store
from bench.reports_data import write_month
from tests.support.browser import assert_no_axe_violations
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "kata-sandi-panjang"
SHOTS = os.environ.get("ANTRE_SCREENSHOTS")  # a folder: save screenshots there to look at them


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server over a week of generated tickets (in the core's shape) and SKM responses."""
    data = tmp_path_factory.mktemp("reports-live")
    store = Store(data)
    try:
        seed_demo(store)
        today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
        write_month(store, today - timedelta(days=6), 6, 300, seed=11, survey_share=0.4)
        auth.create_user(store, "boss", PASSWORD, "admin", display_name="Bu Rina")
    finally:
        store.close()
    live = LiveServer(data).start()
    yield live
    live.stop()


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def new_page(browser: Any, **options: Any) -> Any:
    options.setdefault("viewport", {"width": 1280, "height": 900})
    if SHOTS:  # a full-page screenshot resizes the page: no chart animation to catch half-way
        options.setdefault("reduced_motion", "reduce")
    context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta", **options)
    return context.new_page()


@pytest.fixture
def admin(browser: Any, server: LiveServer) -> Iterator[Any]:
    page = new_page(browser)
    page.goto(server.url + "/admin/login")
    page.fill("#f-username", "boss")
    page.fill("#f-password", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/?$"))
    yield page
    page.context.close()


def chart_drawn(page: Any, canvas_id: str) -> bool:
    """The chart exists and its canvas shows bars or lines in the first series' blue (#0b5cab),
    not only axes and grid lines (waits for the drawing animation to get there)."""
    page.wait_for_function(
        """id => {
            const canvas = document.getElementById(id);
            if (!canvas || !window.AntreCharts || !window.AntreCharts[id]) return false;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let blue = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - 11) < 8 && Math.abs(data[i + 1] - 92) < 8 && Math.abs(data[i + 2] - 171) < 8
                    && data[i + 3] > 200) blue++;
            }
            return canvas.width > 100 && canvas.height > 100 && blue > 400;
        }""", arg=canvas_id, timeout=10000)
    return True


def test_report_pages_charts_tables_and_axe(admin: Any, server: LiveServer) -> None:
    page = admin
    page.click(".admin-nav a:has-text('Laporan')")          # the admin menu links the reports
    page.wait_for_url(re.compile(r".*/admin/reports"))
    page.click(".shortcuts a:has-text('7 hari terakhir')")
    page.wait_for_url(re.compile(r".*from=.*"))
    assert page.locator("h1").inner_text() == "Laporan antrian"
    issued = int(page.locator("#total-issued").inner_text().replace(".", ""))
    assert issued == 6 * 300 - 0 or issued > 1500           # the generated week
    for canvas in ("chart-hours", "chart-tenants", "chart-days"):
        page.wait_for_function("id => window.AntreCharts && window.AntreCharts[id]", arg=canvas)
        assert chart_drawn(page, canvas), canvas
    rows = page.locator("#table-hours tbody tr")
    assert rows.count() >= 6                                  # 07:00-15:00 arrivals, each hour a row
    assert page.locator("#table-services tbody tr").count() > 20
    assert page.locator("#table-staff tbody tr").count() > 10
    assert page.locator("#table-out-of-order tbody tr.flagged").count() >= 1
    assert page.locator("a.csv-link").count() == 7
    shot(page, "report-id")
    assert_no_axe_violations(page, "report page (id)")
    href = page.locator("#table-services a.csv-link").get_attribute("href")
    response = page.request.get(server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.body().startswith(b"\xef\xbb\xbf")
    # English, and a refused period
    page.goto(page.url + "&lang=en")
    assert page.locator("h1").inner_text() == "Queue reports"
    page.wait_for_function("() => window.AntreCharts && window.AntreCharts['chart-hours']")
    assert chart_drawn(page, "chart-hours")
    assert_no_axe_violations(page, "report page (en)")
    shot(page, "report-en")
    page.fill("#f-from", "2026-12-31")
    page.fill("#f-to", "2026-01-01")
    page.click(".period-form button[type=submit]")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "first date" in summary.inner_text()
    assert page.locator("#f-to").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page, "report page with a refused period")


def test_ikm_page(admin: Any, server: LiveServer) -> None:
    page = admin
    page.goto(server.url + "/admin/reports")
    page.click(".subnav a:has-text('Survei kepuasan')")
    page.click(".shortcuts a:has-text('7 hari terakhir')")
    page.wait_for_url(re.compile(r".*/admin/ikm\?from=.*"))
    value = page.locator("#ikm-value").inner_text()
    assert re.fullmatch(r"\d{2,3},\d{2}", value), value
    assert page.locator("#ikm-grade").inner_text() in ("A", "B", "C", "D")
    page.wait_for_function("() => window.AntreCharts && window.AntreCharts['chart-elements']")
    assert chart_drawn(page, "chart-elements")
    assert page.locator("#table-elements tbody tr").count() == 9
    assert page.locator("#table-ikm-tenants tbody tr").count() >= 5
    shot(page, "ikm-id")
    assert_no_axe_violations(page, "IKM page")
    page.goto(page.url + "&lang=en")
    assert page.locator("#table-elements tbody tr").first.inner_text().startswith("U1 Requirements")
    shot(page, "ikm-en")
    assert_no_axe_violations(page, "IKM page (en)")


def _serve_one(server: LiveServer, tokens: dict[str, str], counter_id: int = 1, service_id: int = 1) -> dict:
    ticket = server.api("POST", "/api/v1/tickets", tokens["kiosk"], json={"service_id": service_id}).json()
    called = server.api("POST", f"/api/v1/counters/{counter_id}/call-next", tokens["counter"])
    assert called.status_code == 200, called.text
    finished = server.api("POST", f"/api/v1/counters/{counter_id}/finish", tokens["counter"])
    assert finished.status_code == 200, finished.text
    return ticket


def _survey_of(server: LiveServer, ticket_id: int) -> Any:
    store = Store(server.data_dir)
    try:
        with store.read() as db:
            row = db.conn.execute("SELECT * FROM surveys WHERE ticket_id = ?", (ticket_id,)).fetchone()
            return None if row is None else dict(row)
    finally:
        store.close()


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> dict[str, str]:
    return {role: server.token(role) for role in ("kiosk", "counter", "display", "admin")}


def _tablet(browser: Any, server: LiveServer, tokens: dict[str, str], counter_id: int, **options: Any) -> Any:
    page = new_page(browser, **options)
    page.goto(f"{server.url}/survey/{counter_id}?token={tokens['display']}")
    page.wait_for_url(re.compile(rf".*/survey/{counter_id}$"))
    page.locator("#sv-idle").wait_for()
    page.wait_for_function("() => document.getElementById('sv-conn').dataset.state === 'online'")
    return page


def test_tablet_by_touch(browser: Any, server: LiveServer, tokens: dict[str, str]) -> None:
    page = _tablet(browser, server, tokens, 1, has_touch=True, is_mobile=True,
                   viewport={"width": 800, "height": 1280})
    assert_no_axe_violations(page, "tablet, idle")
    shot(page, "tablet-idle")
    ticket = _serve_one(server, tokens, 1, 1)
    page.locator("#sv-intro").wait_for(timeout=8000)          # pushed over Socket.IO (or the 5 s poll)
    assert ticket["number"] in page.locator("#sv-ticket").inner_text()
    assert_no_axe_violations(page, "tablet, intro")
    page.locator("#sv-start").tap()
    answers = [4, 3, 3, 4, 2, 3, 4, 1, 3]
    for n, score in enumerate(answers, start=1):
        assert page.locator("#sv-progress").inner_text() == f"Pertanyaan {n} dari 9"
        if n == 1:
            assert "persyaratan" in page.locator("#sv-q-text").inner_text()
            shot(page, "tablet-question")
            assert_no_axe_violations(page, "tablet, question")
        page.locator(f"#sv-answers button[data-score='{score}']").tap()
    page.locator("#sv-finish").wait_for()
    assert page.locator("#sv-review li").count() == 9
    page.locator("#sv-comment").fill("Ruang tunggu nyaman")
    shot(page, "tablet-review")
    assert_no_axe_violations(page, "tablet, review")
    page.locator("#sv-send").tap()
    page.locator("#sv-thanks").wait_for()
    saved = _survey_of(server, ticket["id"])
    assert saved is not None and saved["channel"] == "tablet"
    assert [saved[f"u{i}"] for i in range(1, 10)] == answers and saved["comment"] == "Ruang tunggu nyaman"
    page.locator("#sv-idle").wait_for(timeout=15000)          # back to idle; the ticket is not offered again
    page.evaluate("() => window.AntreSurveyTablet.refresh()")
    page.wait_for_timeout(300)
    assert page.locator("#sv-idle").is_visible()
    page.context.close()


def test_tablet_by_keyboard_in_english(browser: Any, server: LiveServer, tokens: dict[str, str]) -> None:
    page = _tablet(browser, server, tokens, 2)
    page.click("#sv-lang")
    assert page.locator("#sv-idle h1").inner_text() == "Thank you for your visit."
    ticket = _serve_one(server, tokens, 2, 2)                 # Loket 2 serves A and B
    page.locator("#sv-intro").wait_for(timeout=8000)
    page.locator("#sv-start").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'sv-q-text'")
    assert "requirements" in page.locator("#sv-q-text").inner_text()
    for key in "432143214":
        page.keyboard.press(key)                              # keys 1-4 answer and move on
    page.locator("#sv-finish").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "sv-finish-title"
    # Change the third answer with Tab and Enter, then send with the keyboard.
    change = page.locator("#sv-review li").nth(2).locator("button")
    change.focus()
    page.keyboard.press("Enter")
    page.locator("#sv-question").wait_for()
    assert page.locator("#sv-answers button[aria-pressed='true']").get_attribute("data-score") == "2"
    page.locator("#sv-answers button[data-score='4']").focus()
    page.keyboard.press("Enter")
    page.locator("#sv-finish").wait_for()
    assert_no_axe_violations(page, "tablet, review (en)")
    page.locator("#sv-send").focus()
    page.keyboard.press("Enter")
    page.locator("#sv-thanks").wait_for()
    assert page.locator("#sv-thanks-title").inner_text() == "Thank you for your rating!"
    saved = _survey_of(server, ticket["id"])
    assert [saved[f"u{i}"] for i in range(1, 10)] == [4, 3, 4, 1, 4, 3, 2, 1, 4]
    page.context.close()


def test_tablet_needs_pairing(browser: Any, server: LiveServer, tokens: dict[str, str]) -> None:
    page = new_page(browser)
    response = page.goto(f"{server.url}/survey/1")
    assert response.status == 401 and page.locator("#unpaired").is_visible()
    response = page.goto(f"{server.url}/survey/1?token={tokens['counter']}")   # not a tablet role
    assert response.status == 403
    response = page.goto(f"{server.url}/survey/999?token={tokens['display']}")
    page.wait_for_url(re.compile(r".*/survey/999$"))
    assert page.locator("h1").inner_text() == "Loket tidak ditemukan"
    assert_no_axe_violations(page, "tablet, unknown counter")
    page.context.close()
