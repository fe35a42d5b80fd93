"""The call audio route: who may fetch it, and that what it serves is the real, audible call.

Flask test client on a demo MPP; real speech synthesis (pyttsx3 driving
espeak-ng, the default backend) measured with the speech package's helpers.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest

from antre.auth import revoke_token
from antre.clock import FrozenClock
from speech import audio as wav
from tests.conftest import bearer
from tests.support.live import make_token


def called(client: Any, tokens: dict[str, str], service_id: int = 1, counter_id: int = 1) -> dict[str, Any]:
    """Issue and call a ticket through the API; return the ``ticket:called`` announcement the hook makes."""
    r = client.post("/api/v1/tickets", json={"service_id": service_id}, headers=bearer(tokens["kiosk"]))
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/counters/{counter_id}/call-next", headers=bearer(tokens["counter"]))
    assert r.status_code == 200, r.get_json()
    ticket = r.get_json()
    app_antre = client.application.extensions["antre"]
    ctx = app_antre.queue.lookup(ticket["counter_id"], ticket["service_id"])
    return {"ticket": ticket, **app_antre.extras["announcer"].describe(ticket, ctx)}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One app for the module (building one costs about two seconds); each test makes its own call."""
    from server import create_app
    from tests.conftest import MONDAY_0800
    from web.context import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("display-audio"), public_url="http://antre.test",
                        demo=True, background=False)
    application = create_app(settings, clock=FrozenClock(MONDAY_0800))
    application.config["TESTING"] = True
    yield application
    application.extensions["antre"].store.close()


@pytest.fixture(scope="module")
def tokens(app: Any) -> dict[str, str]:
    data_dir = app.extensions["antre"].settings.data_dir
    return {role: make_token(data_dir, role) for role in ("admin", "counter", "kiosk", "display", "feed")}


def path_of(url: str) -> str:
    return url.removeprefix("http://antre.test")


@pytest.fixture
def call(client: Any, tokens: dict[str, str]) -> dict[str, Any]:
    return called(client, tokens)


def test_a_display_token_gets_the_real_spoken_call(client: Any, tokens: dict[str, str], call: dict[str, Any],
                                                   tmp_path: Path) -> None:
    from speech.numbers import number_words

    number = int(call["ticket"]["number"][1:])
    assert call["text"] == f"Nomor antrian a, {number_words(number, 'id')}, silakan menuju loket satu"
    started = time.monotonic()
    r = client.get(path_of(call["audio_url"]), headers=bearer(tokens["display"]))
    made_in = time.monotonic() - started
    assert r.status_code == 200
    assert r.mimetype == "audio/wav"
    assert made_in < 10  # made on demand (nothing prepared it: background work is off here)
    path = tmp_path / "call.wav"
    path.write_bytes(r.data)
    info = wav.read_wav_info(path)
    assert (info.rate, info.channels, info.sample_width) == (22050, 1, 2)
    assert not info.header_is_wrong
    sound = wav.read_wav(path)
    chime, speech = sound.samples[: int(1.4 * 22050)], sound.samples[int(1.8 * 22050):]
    # A chime (~1.45 s), a short gap, then eight spoken words at 150 words a minute.
    assert 1.45 + 2.0 < sound.duration < 1.45 + 9.0, sound.duration
    assert wav.rms(wav.Audio(chime)) > 0.05
    assert wav.rms(wav.Audio(speech)) > 0.03
    assert wav.peak(sound) < 0.99  # not clipped
    assert wav.longest_silence(wav.Audio(speech)) < 0.8  # no hole in the sentence
    # Served again from the cache, byte for byte.
    again = client.get(path_of(call["audio_url"]), headers=bearer(tokens["display"]))
    assert again.data == r.data


@pytest.mark.parametrize("role", ["admin", "counter"])
def test_staff_tokens_may_listen(client: Any, tokens: dict[str, str], call: dict[str, Any], role: str) -> None:
    assert client.get(path_of(call["audio_url"]), headers=bearer(tokens[role])).status_code == 200


@pytest.mark.parametrize("role", ["kiosk", "feed"])
def test_other_devices_may_not(client: Any, tokens: dict[str, str], call: dict[str, Any], role: str) -> None:
    r = client.get(path_of(call["audio_url"]), headers=bearer(tokens[role]))
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}])
def test_no_or_bad_credentials_get_401_json(client: Any, call: dict[str, Any], headers: dict[str, str]) -> None:
    r = client.get(path_of(call["audio_url"]), headers=headers)
    assert r.status_code == 401
    assert set(r.get_json()["error"]) >= {"code", "message"}


def test_a_revoked_display_token_is_refused(app: Any, client: Any, call: dict[str, Any]) -> None:
    from antre.auth import list_tokens
    from web.auth import forget_cached_tokens

    app_antre = app.extensions["antre"]
    token = make_token(app_antre.settings.data_dir, "display", "TV to retire")
    assert client.get(path_of(call["audio_url"]), headers=bearer(token)).status_code == 200
    token_id = next(t["id"] for t in list_tokens(app_antre.store) if t["name"] == "TV to retire")
    revoke_token(app_antre.store, token_id, actor="test")
    forget_cached_tokens()
    assert client.get(path_of(call["audio_url"]), headers=bearer(token)).status_code == 401


def test_a_paired_display_browser_uses_its_session(client: Any, tokens: dict[str, str], call: dict[str, Any]) -> None:
    assert client.get(path_of(call["audio_url"])).status_code == 401
    r = client.get("/display?token=" + tokens["display"])
    assert r.status_code == 302 and r.headers["Location"].endswith("/display")
    assert client.get("/display").status_code == 200
    assert client.get(path_of(call["audio_url"])).status_code == 200


def test_a_staff_session_may_listen(app: Any, client: Any, call: dict[str, Any]) -> None:
    from antre.auth import create_user

    user_id = create_user(app.extensions["antre"].store, "sari", "a long enough secret 1", "counter")
    client.get("/display/config")  # a fresh client: no session yet
    with client.session_transaction() as session:
        session["user_id"] = user_id
        session["login_at"] = time.time()
    assert client.get(path_of(call["audio_url"])).status_code == 200


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/display/audio/" + "0" * 64 + ".wav", 404, "audio_not_found"),
    ("/display/audio/" + "0" * 64 + ".wav?t=1", 404, "audio_not_found"),  # not that call's sentence
    ("/display/audio/" + "0" * 64 + ".wav?t=999999", 404, "audio_not_found"),
    ("/display/audio/../../antre.db.wav", 404, None),
    ("/display/audio/ABC.wav", 404, "audio_not_found"),
    ("/display/audio/" + "0" * 64 + ".wav?t=-1", 400, "invalid_t"),
    ("/display/audio/" + "0" * 64 + ".wav?t=x", 400, "invalid_t"),
])
def test_unknown_audio_is_a_clear_4xx(client: Any, tokens: dict[str, str], call: dict[str, Any], path: str,
                                      status: int, code: str | None) -> None:
    r = client.get(path, headers=bearer(tokens["display"]))
    assert r.status_code == status
    if code:
        assert r.get_json()["error"]["code"] == code


def test_the_chime_alone(client: Any, tokens: dict[str, str], tmp_path: Path) -> None:
    r = client.get("/display/audio/chime.wav", headers=bearer(tokens["display"]))
    assert r.status_code == 200
    path = tmp_path / "chime.wav"
    path.write_bytes(r.data)
    assert 1.0 < wav.duration_of(path) < 2.5


def test_range_requests_are_answered(client: Any, tokens: dict[str, str], call: dict[str, Any]) -> None:
    r = client.get(path_of(call["audio_url"]), headers={**bearer(tokens["display"]), "Range": "bytes=0-99"})
    assert r.status_code == 206
    assert len(r.data) == 100 and r.data[:4] == b"RIFF"


def test_config_and_media(app: Any, client: Any, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["display"])
    config = client.get("/display/config", headers=headers).get_json()
    assert config["audio_output"] == "browser" and config["repeats"] == 1 and config["media"] == []
    assert config["running_text"].startswith("Selamat datang")
    media = app.extensions["antre"].settings.data_dir / "media"
    media.mkdir(exist_ok=True)
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (0, 80, 160)).save(buffer, "PNG")
    (media / "b-promo.png").write_bytes(buffer.getvalue())
    (media / "a-video.webm").write_bytes(b"\x1aE\xdf\xa3")
    (media / "notes.txt").write_text("not media")
    (media / ".hidden.png").write_bytes(buffer.getvalue())
    listed = client.get("/display/config", headers=headers).get_json()["media"]
    assert listed == [{"url": "/display/media/a-video.webm", "kind": "video", "name": "a-video.webm"},
                      {"url": "/display/media/b-promo.png", "kind": "image", "name": "b-promo.png"}]
    r = client.get("/display/media/b-promo.png", headers=headers)
    assert r.status_code == 200 and r.data == buffer.getvalue()
    for bad in ("notes.txt", ".hidden.png", "missing.png", "..%2Fantre.db", "../antre.db"):
        r = client.get("/display/media/" + bad, headers=headers)
        assert r.status_code == 404, bad
    assert client.get("/display/media/b-promo.png").status_code == 401


def test_a_past_call_for_catching_up(client: Any, tokens: dict[str, str], call: dict[str, Any]) -> None:
    app_antre = client.application.extensions["antre"]
    events = app_antre.queue.events(0, 1000)["events"]
    event_id = next(e["id"] for e in events
                    if e["type"] == "ticket.called" and e["ticket"]["id"] == call["ticket"]["id"])
    r = client.get(f"/display/calls/{event_id}", headers=bearer(tokens["display"]))
    assert r.status_code == 200
    body = r.get_json()
    assert body["number"] == call["ticket"]["number"] and body["recall"] is False
    assert body["announcement"] == {"text": call["text"], "audio_url": call["audio_url"]}
    issued = next(e["id"] for e in events if e["type"] == "ticket.issued")
    assert client.get(f"/display/calls/{issued}", headers=bearer(tokens["display"])).status_code == 404
    assert client.get(f"/display/calls/{event_id}").status_code == 401


def test_pages_pair_and_refuse(client: Any, tokens: dict[str, str]) -> None:
    assert client.get("/display").status_code == 401
    assert client.get("/display?token=" + tokens["kiosk"]).status_code == 403
    # An unpaired browser learns nothing about zones or counters.
    assert client.get("/display?zone=lantai-9").status_code == 401
    assert client.get("/display/counter/999").status_code == 401
    r = client.get("/display?zone=lantai-9&token=" + tokens["display"], follow_redirects=True)
    assert r.status_code == 404 and b"lantai-1" in r.data
    assert client.get("/display/counter/999").status_code == 404
    r = client.get("/display/counter/3?token=" + tokens["display"])
    assert r.status_code == 302
    page = client.get("/display/counter/3")
    assert page.status_code == 200 and b"Loket 3" in page.data
    page = client.get("/display?zone=lantai-2&lang=en")
    assert page.status_code == 200 and b"Waiting-room display" in page.data and b"lantai-2" in page.data


def test_openapi_describes_the_display_routes(client: Any) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/display/audio/{name}.wav", "/display/config", "/display/calls/{id}"} <= set(paths)
