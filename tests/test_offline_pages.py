"""Every page works on a building LAN with no internet: nothing is fetched from elsewhere.

Each device page and staff page is loaded in Chromium, and every request the
page makes (scripts, styles, fonts, images, sockets, audio) is recorded: all
of them go to the Antre server itself.  A CDN link, a web font or an analytics
snippet added to any template would fail here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.live import LiveServer


@pytest.mark.parametrize("path,role", [
    ("/kiosk", "kiosk"),
    ("/display", "display"),
    ("/display/counter/1", "display"),
    ("/counter", None),
    ("/admin", None),
    ("/track", None),  # replaced below by a real ticket's tracking page
])
def test_a_page_fetches_nothing_from_outside_the_server(browser: Any, module_live_server: LiveServer,
                                                         path: str, role: str | None) -> None:
    server = module_live_server
    if path == "/track":
        kiosk = server.token("kiosk")
        service = server.api("GET", "/api/v1/services", kiosk).json()[0]["id"]
        ticket = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": service}).json()
        url = ticket["track_url"].replace(ticket["track_url"].split("/t/")[0], server.url)
    else:
        url = server.url + path + (f"?token={server.token(role)}" if role else "")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert requested, "the page made no request at all"
    outside = [u for u in requested if not u.startswith((server.url, "data:", "blob:"))]
    assert outside == [], f"{path} fetched from outside the server: {outside}"
