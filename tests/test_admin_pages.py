"""The /admin pages and /pair endpoints through the Flask test client.

Log-in, CSRF refusal, role refusal, forms that refuse (400, message next to the
field, nothing written) and accept (303, audited), device pairing by code,
token revocation taking effect at once, and live ``config:changed``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import pytest

from antre import auth
from tests.conftest import bearer

PASSWORD = "kata-sandi-panjang"


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    from admin.pairing import code_limiter, status_limiter

    code_limiter.reset()
    status_limiter.reset()


@pytest.fixture
def store(app: Any) -> Any:  # noqa: F811 - the app's own store, not conftest's
    return app.extensions["antre"].store


def dump(store: Any) -> str:
    conn = sqlite3.connect(store.path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: Any, store: Any, username: str, role: str, **extra: Any) -> str:
    """Create an account (if needed), log in through /admin/login; returns the session's CSRF token."""
    with store.read() as db:
        exists = db.conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone()
    if not exists:
        auth.create_user(store, username, PASSWORD, role, **extra)
    token = csrf_of(client.get("/admin/login").text)
    r = client.post("/admin/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/admin/running-text" if role != "counter" else "/admin/login").text)


@pytest.fixture
def admin(client: Any, store: Any) -> str:
    return login(client, store, "boss", "admin")


def audit_last(store: Any, action: str) -> dict[str, Any]:
    with store.read() as db:
        row = db.conn.execute("SELECT * FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1", (action,)).fetchone()
    assert row is not None, f"no audit row {action}"
    return dict(row)


# ----------------------------------------------------------------- log-in


def test_pages_need_a_staff_log_in(client: Any, store: Any) -> None:
    r = client.get("/admin/tenants")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/login?next=/admin/tenants")
    before = dump(store)
    r = client.post("/admin/tenants", data={"code": "DINSOS", "name_id": "Dinas Sosial"})
    assert r.status_code == 401 and "log masuk" in r.text.lower()
    assert dump(store) == before


def test_login_refusals_and_redirects(client: Any, store: Any) -> None:
    auth.create_user(store, "boss", PASSWORD, "admin")
    page = client.get("/admin/login?next=/admin/audit")
    assert page.status_code == 200 and 'name="next" value="/admin/audit"' in page.text
    token = csrf_of(page.text)
    r = client.post("/admin/login", data={"username": "boss", "password": PASSWORD})
    assert r.status_code == 400 and "kedaluwarsa" in r.text, "no CSRF token, no log-in"
    r = client.post("/admin/login", data={"csrf_token": token, "username": "boss", "password": "salah-sekali!"})
    assert r.status_code == 401 and "Nama pengguna atau kata sandi salah" in r.text
    assert 'value="boss"' in r.text and "salah-sekali" not in r.text, "the name stays, the password does not"
    r = client.post("/admin/login", data={"csrf_token": token, "username": "boss", "password": PASSWORD,
                                          "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/", "no open redirect"
    assert client.get("/admin/login").status_code == 302, "already logged in"


def test_counter_clerks_are_sent_to_the_counter_page(client: Any, store: Any) -> None:
    auth.create_user(store, "sari", PASSWORD, "counter")
    token = csrf_of(client.get("/admin/login").text)
    r = client.post("/admin/login", data={"csrf_token": token, "username": "sari", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/counter"
    r = client.get("/admin/")
    assert r.status_code == 403 and "Petugas loket bekerja di halaman Loket" in r.text


def test_logout_needs_csrf_and_ends_the_session(client: Any, admin: str) -> None:
    assert client.post("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 200, "a logout without the CSRF token is ignored"
    assert client.post("/admin/logout", data={"csrf_token": admin}).status_code == 303
    assert client.get("/admin/").status_code == 302


# ------------------------------------------------------------- permissions


ADMIN_ONLY_PAGES = ["/admin/tenants", "/admin/tenants/1", "/admin/services", "/admin/services/new",
                    "/admin/services/1", "/admin/counters", "/admin/counters/new", "/admin/counters/1",
                    "/admin/users", "/admin/users/new", "/admin/users/1", "/admin/devices", "/admin/settings",
                    "/admin/voice", "/admin/webhooks"]
SHARED_PAGES = ["/admin/", "/admin/running-text", "/admin/audit"]


def test_admin_opens_every_page(client: Any, admin: str) -> None:
    for path in ADMIN_ONLY_PAGES + SHARED_PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert 'aria-current="page"' in r.text or path == "/admin/", path


def test_supervisor_sees_operations_but_cannot_manage_accounts_or_tokens(client: Any, store: Any) -> None:
    token = login(client, store, "spv", "supervisor")
    for path in SHARED_PAGES:
        assert client.get(path).status_code == 200, path
    home = client.get("/admin/").text
    assert "/admin/audit" in home and "/admin/users" not in home and "/admin/devices" not in home
    for path in ADMIN_ONLY_PAGES:
        r = client.get(path)
        assert r.status_code == 403 and "Tidak diizinkan" in r.text, path
    before = dump(store)
    posts = {
        "/admin/users/new": {"username": "mallory", "role": "admin", "password": PASSWORD,
                             "password_confirm": PASSWORD},
        "/admin/devices/tokens": {"role": "admin", "name": "backdoor"},
        "/admin/devices/1/revoke": {},
        "/admin/users/1/active": {"active": "0"},
        "/admin/tenants": {"code": "EVIL", "name_id": "Evil Corp"},
        "/admin/settings": {"mpp_name": "Hacked"},
    }
    for path, data in posts.items():
        r = client.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 403, path
    r = client.post("/api/v1/webhooks", json={"url": "http://evil.example/", "secret": "x" * 20},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    assert dump(store) == before
    r = client.post("/admin/running-text", data={"csrf_token": token, "running_text": "Loket 5 istirahat 12:00"})
    assert r.status_code == 303
    assert audit_last(store, "settings.updated")["actor"] == "supervisor:spv"


def test_posts_without_the_csrf_token_change_nothing(client: Any, store: Any, admin: str) -> None:
    before = dump(store)
    for path, data in {"/admin/tenants": {"code": "DINSOS", "name_id": "Dinas Sosial"},
                       "/admin/running-text": {"running_text": "x"},
                       "/admin/devices/tokens": {"role": "feed", "name": "x"},
                       "/admin/audit/verify": {}}.items():
        for sent in ({}, {"csrf_token": "not-the-token"}):
            r = client.post(path, data={**data, **sent})
            assert r.status_code == 403 and "kedaluwarsa" in r.text, path
    assert dump(store) == before


# -------------------------------------------------------------------- forms


def test_tenant_form_refuses_then_accepts(client: Any, store: Any, admin: str) -> None:
    before = dump(store)
    r = client.post("/admin/tenants", data={"csrf_token": admin, "code": "dukcapil", "name_id": "Duplikat"})
    assert r.status_code == 400
    assert 'class="error-summary"' in r.text and "Kode instansi DUKCAPIL sudah dipakai" in r.text
    assert 'id="f-code"' in r.text and 'aria-invalid="true"' in r.text and 'value="Duplikat"' in r.text
    assert dump(store) == before
    r = client.post("/admin/tenants", data={"csrf_token": admin, "code": "dinsos", "name_id": "Dinas Sosial",
                                            "name_en": "", "icon": "", "sort": "20"})
    assert r.status_code == 303
    assert "Dinas Sosial ditambahkan" in client.get(r.headers["Location"]).text
    row = audit_last(store, "tenant.created")
    assert (row["actor"], row["device"]) == ("admin:boss", "ip:127.0.0.1")


def test_service_form_grid_and_priority_refusals(client: Any, store: Any, admin: str) -> None:
    base = {"csrf_token": admin, "tenant_id": "1", "code": "q", "name_id": "Legalisir", "name_en": "",
            "icon": "", "sort": "0", "quota_walkin": "", "quota_online": "", "standard_minutes": "10",
            "priority_kind": "strict", "h_mon_1_open": "08.00", "h_mon_1_close": "15:00"}
    before = dump(store)
    cases = [({"h_tue_1_open": "08:00"}, "f-h_tue_1_close", "belum lengkap"),
             ({"h_wed_1_open": "8:61", "h_wed_1_close": "12:00"}, "f-h_wed_1_open", "tidak sah"),
             ({"h_mon_2_open": "14:00", "h_mon_2_close": "16:00"}, "f-hours", "tumpang tindih"),
             ({"priority_kind": "interleave", "priority_every": ""}, "f-priority_every", "Isi N"),
             ({"code": "A"}, "f-code", "Prefiks A sudah dipakai"),
             ({"standard_minutes": "abc"}, "f-standard_minutes", "1–480")]
    for extra, anchor, words in cases:
        r = client.post("/admin/services/new", data={**base, **extra})
        assert r.status_code == 400, extra
        assert f'href="#{anchor}"' in r.text and words in r.text, (extra, anchor)
        assert 'value="Legalisir"' in r.text, "typed values survive a refusal"
    assert dump(store) == before
    r = client.post("/admin/services/new", data={**base, "priority_kind": "interleave", "priority_every": "2",
                                                 "h_mon_2_open": "15:30", "h_mon_2_close": "17:00"})
    assert r.status_code == 303
    with store.read() as db:
        row = db.conn.execute("SELECT * FROM services WHERE code = 'Q'").fetchone()
    assert row["priority_rule"] == "interleave 2" and row["quota_walkin"] is None
    assert '"mon": [["08:00", "15:00"], ["15:30", "17:00"]]' in row["hours"]
    page = client.get(f"/admin/services/{row['id']}").text
    assert 'value="15:30"' in page and 'value="interleave" checked' in page


def test_counter_form(client: Any, store: Any, admin: str) -> None:
    r = client.post("/admin/counters/new", data={"csrf_token": admin, "name": "Loket 27", "zone": "Lantai 3"})
    assert r.status_code == 400 and "Pilih minimal satu layanan" in r.text
    r = client.post("/admin/counters/new", data={"csrf_token": admin, "name": "Loket 27", "zone": "Lantai 3",
                                                 "service_ids": ["1", "2"]})
    assert r.status_code == 303
    counter = next(c for c in client.get("/api/v1/counters", headers={"X-CSRF-Token": admin}).get_json()
                   if c["name"] == "Loket 27")
    assert counter["zone"] == "lantai-3" and counter["service_ids"] == [1, 2]
    r = client.post(f"/admin/counters/{counter['id']}/active", data={"csrf_token": admin, "active": "0"})
    assert r.status_code == 303
    names = [c["name"] for c in client.get("/api/v1/counters").get_json()]
    assert "Loket 27" not in names


def test_staff_account_forms_and_deactivation_ends_a_session(app: Any, client: Any, store: Any, admin: str) -> None:
    data = {"csrf_token": admin, "username": "sari", "display_name": "Sari", "role": "supervisor",
            "tenant_id": "", "password": PASSWORD, "password_confirm": PASSWORD + "x"}
    r = client.post("/admin/users/new", data=data)
    assert r.status_code == 400 and "Kedua kata sandi tidak sama" in r.text and PASSWORD not in r.text
    r = client.post("/admin/users/new", data={**data, "password_confirm": PASSWORD})
    assert r.status_code == 303
    with store.read() as db:
        sari = db.conn.execute("SELECT id FROM users WHERE username = 'sari'").fetchone()[0]
    other = app.test_client()
    login(other, store, "sari", "supervisor")
    assert other.get("/admin/").status_code == 200
    r = client.post(f"/admin/users/{sari}/active", data={"csrf_token": admin, "active": "0"})
    assert r.status_code == 303
    assert other.get("/admin/").status_code == 302, "the deactivated account is logged out at once"
    r = client.post("/admin/users/1/active", data={"csrf_token": admin, "active": "0"})
    assert "tidak dapat menonaktifkan akun Anda sendiri" in client.get(r.headers["Location"]).text
    r = client.post(f"/admin/users/{sari}/password", data={"csrf_token": admin, "password": "pendek",
                                                          "password_confirm": "pendek"})
    assert r.status_code == 400 and "minimal 10 karakter" in r.text


def test_a_password_reset_ends_that_persons_other_sessions(app: Any, client: Any, store: Any, admin: str) -> None:
    """Someone who saw the old password, or holds a forgotten browser, is out."""
    from web.push import socketio

    laptop, tablet = app.test_client(), app.test_client()
    login(laptop, store, "sari", "supervisor")
    login(tablet, store, "sari", "supervisor")
    assert socketio.test_client(app, flask_test_client=tablet).is_connected()
    with store.read() as db:
        sari = db.conn.execute("SELECT id FROM users WHERE username = 'sari'").fetchone()[0]
    new = "kata-sandi-baru-sekali"
    r = client.post(f"/admin/users/{sari}/password", data={"csrf_token": admin, "password": new,
                                                          "password_confirm": new})
    assert r.status_code == 303
    assert laptop.get("/admin/").status_code == 302 and tablet.get("/admin/").status_code == 302
    assert not socketio.test_client(app, flask_test_client=laptop).is_connected(), "nor a live connection"
    assert client.get("/admin/").status_code == 200, "the admin who reset it goes on"
    token = csrf_of(laptop.get("/admin/login").text)
    old = laptop.post("/admin/login", data={"csrf_token": token, "username": "sari", "password": PASSWORD})
    assert old.status_code != 303
    r = laptop.post("/admin/login", data={"csrf_token": token, "username": "sari", "password": new})
    assert r.status_code == 303 and laptop.get("/admin/").status_code == 200


def test_resetting_ones_own_password_keeps_this_session_and_ends_the_others(app: Any, client: Any, store: Any,
                                                                           admin: str) -> None:
    elsewhere = app.test_client()
    login(elsewhere, store, "boss", "admin")
    new = "kata-sandi-baru-sekali"
    r = client.post("/admin/users/1/password", data={"csrf_token": admin, "password": new, "password_confirm": new})
    assert r.status_code == 303
    assert client.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_settings_voice_and_running_text(client: Any, store: Any, admin: str) -> None:
    r = client.post("/admin/settings", data={"csrf_token": admin, "mpp_name": "MPP Kota Antre",
                                             "kiosk_idle_seconds": "5", "ticket_footer": ""})
    assert r.status_code == 400 and "10–600" in r.text
    r = client.post("/admin/voice", data={"csrf_token": admin, "number_style": "digits", "zero_word": "kosong",
                                          "template_id": "Nomor {number} ke {counter}",
                                          "template_en": "Number {number} to {counter}", "repeats": "2",
                                          "chime": "1", "action": "preview"})
    assert r.status_code == 200 and "Nomor a, kosong satu dua ke loket tiga" in r.text
    assert auth is not None and "belum disimpan" in r.text
    r = client.post("/admin/voice", data={"csrf_token": admin, "number_style": "whole", "zero_word": "nol",
                                          "template_id": "Nomor {nomor}", "template_en": "x {number} {counter}",
                                          "repeats": "1", "action": "save"})
    assert r.status_code == 400 and "{number} dan {counter}" in r.text
    r = client.post("/admin/voice", data={"csrf_token": admin, "number_style": "digits", "zero_word": "nol",
                                          "template_id": "Nomor antrian {number}, silakan ke {counter}",
                                          "template_en": "Number {number}, please go to {counter}",
                                          "repeats": "2", "audio_output": "server", "speech_backend": "espeak",
                                          "audio_device": "", "action": "save"})
    assert r.status_code == 303
    from antre.config import read_settings

    settings = read_settings(store)
    voice = settings["voice"]
    assert voice["repeats"] == 2 and voice["chime"] is False and voice["number_style"] == "digits"
    assert (settings["audio_output"], settings["speech_backend"]) == ("server", "espeak")


def test_english_pages(client: Any, admin: str) -> None:
    page = client.get("/admin/services?lang=en").text
    assert '<html lang="en">' in page and "Agencies" in page and "Add a service" in page
    assert "Agencies" in client.get("/admin/").text, "the language sticks for the session"


def test_unknown_ids_are_friendly_404s(client: Any, admin: str) -> None:
    for path in ("/admin/tenants/999", "/admin/services/999", "/admin/counters/999", "/admin/users/999"):
        r = client.get(path)
        assert r.status_code == 404 and "Tidak ditemukan" in r.text, path


# ------------------------------------------------------------------ devices


def test_token_shown_once_and_revocation_is_immediate(client: Any, store: Any, admin: str) -> None:
    r = client.post("/admin/devices/tokens", data={"csrf_token": admin, "role": "feed", "name": "MPP Digital"})
    assert r.status_code == 201
    token = re.search(r'id="new-token" class="token-value" readonly value="([^"]+)"', r.text).group(1)
    assert token not in client.get("/admin/devices").text, "shown once only"
    other = client.application.test_client()
    assert other.get("/api/v1/events", headers=bearer(token)).status_code == 200  # now cached for 5 s
    with store.read() as db:
        token_id = db.conn.execute("SELECT id FROM tokens WHERE name = 'MPP Digital'").fetchone()[0]
    r = client.post(f"/admin/devices/{token_id}/revoke", data={"csrf_token": admin})
    assert r.status_code == 303
    assert other.get("/api/v1/events", headers=bearer(token)).status_code == 401
    assert audit_last(store, "token.revoked")["actor"] == "admin:boss"


def test_pairing_a_device_page_by_code(app: Any, client: Any, store: Any, admin: str) -> None:
    device = app.test_client()
    page = device.get("/display")
    assert page.status_code == 401 and 'id="pairing"' in page.text and 'data-roles="display"' in page.text
    assert device.post("/pair/code", json={"roles": ["display"]}).status_code == 403, "needs the page's header"
    headers = {"X-Antre-Pairing": "1"}
    r = device.post("/pair/code", json={"roles": ["admin"]}, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_roles"
    issued = device.post("/pair/code", json={"roles": ["display"]}, headers=headers).get_json()
    assert re.fullmatch(r"\d{6}", issued["code"]) and issued["poll_seconds"] == 3
    again = device.post("/pair/code", json={"roles": ["display"]}, headers=headers).get_json()
    assert again["code"] == issued["code"], "a reload shows the same code"
    assert device.get("/pair/status").get_json() == {"state": "waiting"}

    r = client.post("/admin/devices/pair", data={"csrf_token": admin, "code": "000000", "role": "display",
                                                 "name": "TV lobi"})
    assert r.status_code == 400 and "Kode tidak dikenal" in r.text
    r = client.post("/admin/devices/pair", data={"csrf_token": admin, "code": issued["code"], "role": "kiosk",
                                                 "name": "TV lobi"})
    assert r.status_code == 400 and "pilih peran itu" in r.text
    r = client.post("/admin/devices/pair", data={"csrf_token": admin, "code": issued["code"], "role": "display",
                                                 "name": "TV lobi"})
    assert r.status_code == 303
    assert device.get("/pair/status").get_json() == {"state": "paired", "role": "display", "name": "TV lobi"}
    assert device.get("/display").status_code == 200, "the device page now opens"
    assert audit_last(store, "device.paired")["device"] == "ip:127.0.0.1"

    with store.read() as db:
        token_id = db.conn.execute("SELECT id FROM tokens WHERE name = 'TV lobi'").fetchone()[0]
    client.post(f"/admin/devices/{token_id}/revoke", data={"csrf_token": admin})
    assert device.get("/display").status_code == 401, "revoked: unpaired at once"


def test_pairing_endpoints_are_rate_limited(app: Any) -> None:
    headers = {"X-Antre-Pairing": "1"}
    answers = []
    for _ in range(11):
        device = app.test_client()  # a fresh browser each time: no code to reuse
        answers.append(device.post("/pair/code", json={"roles": ["kiosk"]}, headers=headers,
                                   environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code)
    assert answers[:10] == [200] * 10 and answers[10] == 429
    other = app.test_client().post("/pair/code", json={"roles": ["kiosk"]}, headers=headers,
                                   environ_base={"REMOTE_ADDR": "10.9.9.10"})
    assert other.status_code == 200, "another device is not held back"
    statuses = [app.test_client().get("/pair/status", environ_base={"REMOTE_ADDR": "10.9.9.11"}).status_code
                for _ in range(61)]
    assert statuses.count(429) == 1 and statuses[-1] == 429


# -------------------------------------------------------------------- audit


def test_audit_page_filters_and_verifies(client: Any, store: Any, admin: str) -> None:
    client.post("/admin/tenants", data={"csrf_token": admin, "code": "DINSOS", "name_id": "Dinas Sosial"})
    page = client.get("/admin/audit?action=tenant.created")
    assert page.status_code == 200 and "DINSOS" in page.text and "Instansi ditambahkan" in page.text
    assert "demo.seeded" not in page.text.split("<tbody>")[1]
    r = client.get("/admin/audit?from=kemarin")
    assert r.status_code == 400 and "TTTT-BB-HH" in r.text
    r = client.post("/admin/audit/verify", data={"csrf_token": admin})
    assert r.status_code == 200 and "Rantai hash utuh." in r.text
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET actor = 'someone-else' WHERE action = 'tenant.created'")
    conn.close()
    r = client.post("/admin/audit/verify", data={"csrf_token": admin})
    assert "PERINGATAN: rantai hash rusak." in r.text and 'role="alert"' in r.text


# --------------------------------------------------------- live: config:changed


def test_a_change_reaches_displays_and_kiosks_live(app: Any, client: Any, tokens: dict[str, str], admin: str) -> None:
    from web.push import socketio

    display = socketio.test_client(app, auth={"token": tokens["display"]})
    kiosk = socketio.test_client(app, auth={"token": tokens["kiosk"]})
    assert display.is_connected() and kiosk.is_connected()
    display.get_received()
    kiosk.get_received()
    r = client.post("/admin/running-text", data={"csrf_token": admin, "running_text": "Loket 5 tutup sementara"})
    assert r.status_code == 303

    def wait_for(sock: Any, name: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(m["name"] == name for m in got):
            got += sock.get_received()
            time.sleep(0.02)
        return got

    seen = wait_for(display, "queue:state")
    changed = next(m["args"][0] for m in seen if m["name"] == "config:changed")
    assert changed["what"] == ["settings"] and changed["settings"]["running_text"] == "Loket 5 tutup sementara"
    state = next(m["args"][0] for m in seen if m["name"] == "queue:state")
    assert state["running_text"] == "Loket 5 tutup sementara"
    assert any(m["name"] == "config:changed" for m in wait_for(kiosk, "queue:state"))

    # Retiring a service: the kiosk's fresh state no longer lists it.
    kiosk.get_received()
    client.post("/admin/services/1/active", data={"csrf_token": admin, "active": "0"})
    state = next(m["args"][0] for m in wait_for(kiosk, "queue:state") if m["name"] == "queue:state")
    assert 1 not in [s["id"] for s in state["services"]]
    display.disconnect()
    kiosk.disconnect()


def test_a_revoked_tokens_socket_is_dropped(app: Any, client: Any, store: Any, admin: str) -> None:
    from web.push import socketio

    token = auth.create_token(store, "display", "TV sementara")
    sock = socketio.test_client(app, auth={"token": token})
    assert sock.is_connected()
    with store.read() as db:
        token_id = db.conn.execute("SELECT id FROM tokens WHERE name = 'TV sementara'").fetchone()[0]
    client.post(f"/admin/devices/{token_id}/revoke", data={"csrf_token": admin})
    assert not sock.is_connected()
    assert not socketio.test_client(app, auth={"token": token}).is_connected(), "reconnection is refused"
