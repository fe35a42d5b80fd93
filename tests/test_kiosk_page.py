"""The kiosk page's server side: pairing, both languages, the QR code SVG, speech keys, the OpenAPI entries."""

from __future__ import annotations

import io
import json
import re
import wave
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from kiosk.texts import TEXTS
from tests.conftest import bearer
from tests.support.live import make_token

ROOT = Path(__file__).resolve().parents[1]


def data_dir(app: Any) -> Path:
    return app.extensions["antre"].settings.data_dir


def test_every_kiosk_text_has_its_english(app: Any) -> None:
    with (ROOT / "kiosk/translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="en")
    for key, msgid in TEXTS.items():
        message = catalog.get(msgid)
        assert message is not None and message.string, key
        placeholders = set(re.findall(r"%\((\w+)\)s", msgid))
        assert set(re.findall(r"%\((\w+)\)s", message.string)) == placeholders, key
    from kiosk.views import messages

    with app.test_request_context():
        both = messages()
    assert both["id"]["welcome"] == "Selamat datang" and both["en"]["welcome"] == "Welcome"
    assert both["en"]["photo_screen"] == "Take a photo of this screen"


def test_the_page_pairs_a_kiosk_and_refuses_others(app: Any, client: Any) -> None:
    kiosk = make_token(data_dir(app), "kiosk", "Kios lobi")
    display = make_token(data_dir(app), "display")
    assert client.get("/kiosk").status_code == 401  # not paired: the friendly page
    assert client.get(f"/kiosk?token={display}").status_code == 403
    paired = client.get(f"/kiosk?token={kiosk}")
    assert paired.status_code == 302 and paired.headers["Location"].endswith("/kiosk")
    page = client.get("/kiosk")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="id">' in html and "Selamat datang" in html
    config = json.loads(re.search(r'<script type="application/json" id="kiosk-config">(.*?)</script>', html,
                                  re.S).group(1))
    assert config["kiosk"]["name"] == "Kios lobi" and config["idle_seconds"] == 30
    assert len(config["services"]) == 42 and len(config["tenants"]) == 14
    assert config["counters"]["1"] == ["Loket 1", "Loket 2"]
    assert config["messages"]["en"]["screen_tenants"] == "Choose an agency"
    # the page's own API calls need the session's CSRF token
    refused = client.post("/api/v1/tickets", json={"service_id": 1})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    taken = client.post("/api/v1/tickets", json={"service_id": 1}, headers={"X-CSRF-Token": csrf})
    assert taken.status_code == 201


def test_qr_code_svg_encodes_the_tracking_address(app: Any, client: Any, tokens: dict[str, str]) -> None:
    import qrcode

    ticket = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(tokens["kiosk"])).get_json()
    response = client.get(f"/kiosk/qr/{ticket['id']}.svg", headers=bearer(tokens["kiosk"]))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<script" not in svg
    # the dark modules drawn are exactly those of the ticket's track_url
    drawn = {(int(float(x)), int(float(y))) for x, y in re.findall(r"M\s*([\d.]+)[, ]([\d.]+)", svg)}
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(ticket["track_url"])
    qr.make(fit=True)
    expected = {(x, y) for y, row in enumerate(qr.get_matrix()) for x, dark in enumerate(row) if dark}
    assert drawn == expected
    assert client.get(f"/kiosk/qr/{ticket['id']}.svg").status_code == 401
    assert client.get("/kiosk/qr/999999.svg", headers=bearer(tokens["kiosk"])).status_code == 404


@pytest.fixture
def tone_app(app: Any) -> Any:
    store = app.extensions["antre"].store
    with store.write() as db:  # a synthesizer with no voice: fast and deterministic
        store.set_setting(db, "kiosk.speech_backend", "tone")
    return app


def test_speech_speaks_only_known_keys(tone_app: Any, tokens: dict[str, str]) -> None:
    client = tone_app.test_client()
    headers = bearer(tokens["kiosk"])
    ok = client.get("/kiosk/speech/id.wav?keys=ui.welcome,service.1,count.12,number.A012,time.0830",
                    headers=headers)
    assert ok.status_code == 200 and ok.mimetype == "audio/wav"
    with wave.open(io.BytesIO(ok.get_data())) as wav:
        assert wav.getnchannels() == 1 and wav.getnframes() > wav.getframerate() * 0.5
    speech = tone_app.extensions["antre"].extras["kiosk_speech"]
    assert speech.text_for("number.A012", "id") == "a, dua belas"
    assert speech.text_for("number.A012", "en") == "ay, twelve"
    assert speech.text_for("service.1", "en") == "Electronic ID card (KTP-el)"
    assert speech.text_for("ui.photo_screen", "en") == "Take a photo of this screen"
    assert speech.text_for("time.0830", "id") == "pukul delapan tiga puluh"
    cache = data_dir(tone_app) / "cache" / "kiosk-speech"
    assert len(list(cache.glob("*.wav"))) >= 5
    for bad in ("text.halo", "ui.nope", "service.99999", "ui.welcome,%3Cscript%3E", ",".join(["ui.welcome"] * 9),
                "count.10000", "number.a012", "time.2460", ""):
        refused = client.get(f"/kiosk/speech/id.wav?keys={bad}", headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unknown_speech_key", bad
    assert client.get("/kiosk/speech/fr.wav?keys=ui.welcome", headers=headers).status_code == 404
    assert client.get("/kiosk/speech/id.wav?keys=ui.welcome").status_code == 401


def test_openapi_describes_the_printing_routes(client: Any) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/tickets/{id}/print", "get"), ("/api/v1/print-agent/jobs", "get"),
                         ("/api/v1/print-agent/jobs/{id}/result", "post"), ("/api/v1/print-jobs", "get"),
                         ("/api/v1/kiosks/{id}/printer", "get"), ("/api/v1/kiosks/{id}/printer", "put")):
        assert method in paths[path], (path, method)
