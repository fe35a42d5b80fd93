"""The tracking page over the Flask app: access by token only, nothing personal, safe headers."""

from __future__ import annotations

import io
import json
import re
import wave
from typing import Any

from tests.conftest import bearer


def issue(client: Any, tokens: dict[str, str], service_id: int = 1) -> dict[str, Any]:
    r = client.post("/api/v1/tickets", json={"service_id": service_id}, headers=bearer(tokens["kiosk"]))
    assert r.status_code == 201
    return r.get_json()


def path_of(ticket: dict[str, Any]) -> str:
    assert ticket["track_url"].startswith("http://antre.test/t/")
    return ticket["track_url"].removeprefix("http://antre.test")


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="tk-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def test_the_page_shows_the_ticket_live_data_and_is_private(client: Any, tokens: dict[str, str]) -> None:
    issue(client, tokens)
    ticket = issue(client, tokens)
    r = client.get(path_of(ticket))
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="id">' in html and ">A002<" in html and "KTP Elektronik" in html
    assert "Ada 1 orang di depan Anda" in html and "Perkiraan waktu tunggu" in html
    # the address is the key: no caching, no referrer, no indexing, no framing, scripts only from here
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in r.headers["X-Robots-Tag"]
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    data = page_data(html)
    assert data["token"] == ticket["track_url"].rsplit("/", 1)[1]
    assert data["state"]["ticket"]["id"] == ticket["id"]
    assert set(data["messages"]) == {"id", "en"}
    assert data["messages"]["en"]["Menunggu"] == "Waiting"


def test_english_on_request(client: Any, tokens: dict[str, str]) -> None:
    ticket = issue(client, tokens)
    html = client.get(path_of(ticket) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Your ticket number" in html and "Electronic ID card (KTP-el)" in html and "You are next!" in html


def test_the_language_chosen_at_the_kiosk_is_the_pages_first_language(client: Any, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/tickets", json={"service_id": 1, "lang": "en"}, headers=bearer(tokens["kiosk"]))
    html = client.get(path_of(r.get_json())).get_data(as_text=True)
    assert '<html lang="en">' in html and "Your ticket number" in html
    html = client.get(path_of(r.get_json()) + "?lang=id").get_data(as_text=True)
    assert '<html lang="id">' in html and "Nomor antrian Anda" in html


def test_no_personal_data_even_for_a_booked_ticket(client: Any, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/bookings", headers=bearer(tokens["feed"]), json={
        "code": "PRIV0001", "service_id": 1, "slot_start": "2026-11-23T08:15:00+07:00",
        "name": "Bambang Sutrisno"})
    assert r.status_code == 201
    ticket = client.post("/api/v1/bookings/PRIV0001/check-in", headers=bearer(tokens["kiosk"])).get_json()
    for path in (path_of(ticket), path_of(ticket) + "/state", path_of(ticket) + "?lang=en"):
        body = client.get(path).get_data(as_text=True)
        assert "Bambang" not in body and "Sutrisno" not in body and "PRIV0001" not in body


def test_state_json_follows_the_ticket(client: Any, tokens: dict[str, str]) -> None:
    ticket = issue(client, tokens)
    client.post("/api/v1/counters/1/call-next", headers=bearer(tokens["counter"]))
    r = client.get(path_of(ticket) + "/state")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    state = r.get_json()
    assert state["ticket"]["status"] == "called"
    assert state["counter"] == {"id": 1, "name": "Loket 1", "zone": "lantai-1"}
    assert state["service"]["name"] == "KTP Elektronik"
    html = client.get(path_of(ticket)).get_data(as_text=True)
    assert "Silakan menuju Loket\u00a01" in html and 'class="tk tk-called"' in html


def test_unknown_or_malformed_tokens_get_a_friendly_404(client: Any) -> None:
    for token in ("doesNotExist12345678", "short", "a" * 65, "bad%20token!!", "..%2F..%2Fetc"):
        r = client.get(f"/t/{token}")
        assert r.status_code == 404, token
        html = r.get_data(as_text=True)
        assert "Nomor antrian tidak ditemukan" in html and "Ticket not found" in html
        assert r.headers["Cache-Control"] == "no-store"
    for token in ("doesNotExist12345678", "short", "a" * 65):
        s = client.get(f"/t/{token}/state")
        assert s.status_code == 404 and s.get_json()["error"]["code"] == "ticket_not_found"


def test_the_chime_is_a_short_wav(client: Any) -> None:
    r = client.get("/t/chime.wav")
    assert r.status_code == 200 and r.mimetype == "audio/wav"
    with wave.open(io.BytesIO(r.data)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
    assert 0.8 < seconds < 2.0
    assert len(r.data) < 64 * 1024  # small enough for a phone on a busy Wi-Fi


def test_the_survey_is_offered_only_where_the_endpoint_exists(app: Any, client: Any, tokens: dict[str, str]) -> None:
    from tracking.views import survey_available

    ticket = issue(client, tokens)
    html = client.get(path_of(ticket)).get_data(as_text=True)
    with app.test_request_context():
        available = survey_available()
    assert ('id="tk-survey"' in html) is available
    assert page_data(html)["survey"] is available
    if available:
        assert html.count('type="radio"') == 36  # nine elements, four answers each
        assert page_data(html)["survey_url"] == f"/api/v1/tickets/{ticket['id']}/survey"
