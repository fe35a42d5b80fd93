"""Counter pages and the REST API with staff sessions: CSRF, tenants, holds, idempotent calls, concurrency."""

from __future__ import annotations

import html
import json
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from antre import staff
from antre.auth import create_user
from tests.conftest import bearer

PASSWORD = "kata-sandi-uji-123"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def add_user(app: Any, username: str, role: str = "counter", tenant_id: int | None = 1) -> int:
    return create_user(app.extensions["antre"].store, username, PASSWORD, role, display_name=username.title(),
                       tenant_id=tenant_id)


def log_in(client: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the form; returns the X-CSRF-Token header of the new session."""
    token = csrf_of(client.get("/counter").get_data(as_text=True))
    r = client.post("/counter/login", data={"csrf_token": token, "username": username, "password": password})
    assert r.status_code == 303, r.get_data(as_text=True)
    return {"X-CSRF-Token": csrf_of(client.get("/counter/choose").get_data(as_text=True))}


def issue(client: Any, tokens: dict[str, str], service_id: int = 1, n: int = 1) -> list[dict]:
    out = []
    for _ in range(n):
        r = client.post("/api/v1/tickets", json={"service_id": service_id}, headers=bearer(tokens["kiosk"]))
        assert r.status_code == 201
        out.append(r.get_json())
    return out


def test_log_in_form_refuses_wrong_passwords_and_forms_without_csrf(app, client):
    add_user(app, "sari")
    page = client.get("/counter")
    form = page.get_data(as_text=True)
    assert page.status_code == 200 and 'autocomplete="current-password"' in form
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    no_csrf = client.post("/counter/login", data={"username": "sari", "password": PASSWORD})
    assert no_csrf.status_code == 400 and "(The form's session expired" in text(no_csrf)
    wrong = client.post("/counter/login", data={"csrf_token": csrf_of(form), "username": "sari", "password": "x"})
    assert wrong.status_code == 401
    assert "Nama pengguna atau kata sandi salah. (Wrong username or password.)" in text(wrong)
    ok = client.post("/counter/login",
                     data={"csrf_token": csrf_of(form), "username": " Sari", "password": PASSWORD})
    assert ok.status_code == 303
    assert client.get("/counter").headers["Location"].endswith("/counter/choose")


def test_log_in_rate_limit_answers_429_with_retry_after(app, client, monkeypatch):
    add_user(app, "sari")
    monkeypatch.setattr(staff, "MAX_FAILURES_PER_IP", 2)
    token = csrf_of(client.get("/counter").get_data(as_text=True))
    for name in ("tebak1", "tebak2"):
        assert client.post("/counter/login", data={"csrf_token": token, "username": name,
                                                   "password": "x"}).status_code == 401
    limited = client.post("/counter/login", data={"csrf_token": token, "username": "sari", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan masuk" in text(limited)


def test_cookie_session_api_calls_need_the_csrf_header(app, client, tokens):
    add_user(app, "sari")
    headers = log_in(client, "sari")
    assert client.post("/api/v1/counters/1/take", headers=headers).status_code == 200
    issue(client, tokens)
    refused = client.post("/api/v1/counters/1/call-next")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert client.post("/api/v1/counters/1/call-next", headers={"X-CSRF-Token": "forged"}).status_code == 403
    called = client.post("/api/v1/counters/1/call-next", headers=headers)
    assert called.status_code == 200 and called.get_json()["number"] == "A001"
    assert client.get("/api/v1/counters/1/waiting").status_code == 200  # reads need no token


def test_a_clerk_sees_and_acts_only_on_counters_of_their_agency(app, client, tokens):
    add_user(app, "sari", tenant_id=1)  # Disdukcapil: Loket 1-4
    headers = log_in(client, "sari")
    chooser = client.get("/counter/choose").get_data(as_text=True)
    assert re.findall(r"<h3>([^<]+)</h3>", chooser) == ["Loket 1", "Loket 2", "Loket 3", "Loket 4"]
    for method, path in (("post", "/api/v1/counters/5/call-next"), ("post", "/api/v1/counters/5/take"),
                         ("get", "/api/v1/counters/5/waiting"), ("get", "/api/v1/counters/5/desk"),
                         ("post", "/api/v1/counters/5/pause")):
        r = getattr(client, method)(path, headers=headers, json={"reason": "Sholat"} if path.endswith("pause")
                                    else None)
        assert r.status_code == 403, path
        error = r.get_json()["error"]
        assert error["code"] == "forbidden_counter" and "(This counter belongs to another agency.)" in error["message"]
    form = client.post("/counter/take", data={"csrf_token": headers["X-CSRF-Token"], "counter_id": "5"},
                       follow_redirects=True)
    assert form.request.path == "/counter/choose"
    assert "Loket ini milik instansi lain" in text(form)
    assert client.get("/counter/5", follow_redirects=True).request.path == "/counter/choose"


def test_holds_one_person_per_counter_and_supervisor_release(app, tokens):
    add_user(app, "sari")
    add_user(app, "budi")
    add_user(app, "ratna", "supervisor", tenant_id=None)
    sari, budi, ratna = app.test_client(), app.test_client(), app.test_client()
    hs, hb, hr = log_in(sari, "sari"), log_in(budi, "budi"), log_in(ratna, "ratna")
    assert sari.post("/api/v1/counters/1/take", headers=hs).get_json()["user"]["username"] == "sari"
    taken = budi.post("/api/v1/counters/1/take", headers=hb)
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "counter_taken"
    assert "Sari" in taken.get_json()["error"]["message"]
    issue(sari, tokens)
    acting = budi.post("/api/v1/counters/1/call-next", headers=hb)
    assert acting.status_code == 409 and acting.get_json()["error"]["code"] == "counter_taken"
    forbidden = budi.post("/api/v1/counters/1/release", headers=hb)
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "release_forbidden"
    released = ratna.post("/api/v1/counters/1/release", headers=hr)
    assert released.status_code == 200 and released.get_json()["released"]["user"]["username"] == "sari"
    assert budi.post("/api/v1/counters/1/take", headers=hb).status_code == 200
    assert [h["user"]["username"] for h in budi.get("/api/v1/counter-sessions").get_json()] == ["budi"]
    lost = sari.post("/api/v1/counters/1/call-next", headers=hs)
    assert lost.status_code == 409 and lost.get_json()["error"]["code"] == "counter_taken"
    assert budi.post("/api/v1/counters/1/call-next", headers=hb).get_json()["number"] == "A001"
    # The supervisor's chooser offers the release; a clerk's does not.
    assert "Lepaskan Loket 1 dari Budi" in text(ratna.get("/counter/choose"))
    assert "Lepaskan" not in text(sari.get("/counter/choose"))


def test_call_next_with_expect_current_never_calls_twice_and_plain_post_still_works(app, client, tokens):
    add_user(app, "sari")
    headers = log_in(client, "sari")
    client.post("/api/v1/counters/1/take", headers=headers)
    issue(client, tokens, n=3)
    first = client.post("/api/v1/counters/1/call-next", headers=headers, json={"expect_current": None})
    assert first.status_code == 200
    again = client.post("/api/v1/counters/1/call-next", headers=headers, json={"expect_current": None})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "stale_state" and error["details"]["current_ticket_id"] == first.get_json()["id"]
    for action in ("recall", "start", "finish", "no-show"):
        stale = client.post(f"/api/v1/counters/1/{action}", headers=headers, json={"expect_current": 999})
        assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_state", action
    bad = client.post("/api/v1/counters/1/call-next", headers=headers, json={"expect_current": "A001"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_expect_current"
    events = client.get("/api/v1/events", headers=bearer(tokens["admin"])).get_json()["events"]
    assert [e["ticket"]["number"] for e in events if e["type"] == "ticket.called"] == ["A001"]
    # The contract's plain POST, no body, from a device token: unchanged.
    plain = client.post("/api/v1/counters/2/call-next", headers=bearer(tokens["counter"]))
    assert plain.status_code == 200 and plain.get_json()["number"] == "A002"
    nothing = client.post("/api/v1/counters/3/call-next", headers=bearer(tokens["counter"]))
    assert nothing.status_code == 404 and nothing.get_json()["error"]["code"] == "queue_empty"


def test_device_tokens_hold_nothing_and_are_not_tenant_bound(app, client, tokens):
    add_user(app, "sari")
    headers = log_in(client, "sari")
    client.post("/api/v1/counters/1/take", headers=headers)
    issue(client, tokens, service_id=1)
    issue(client, tokens, service_id=7)  # Paspor Baru (Imigrasi), Loket 5
    device = bearer(tokens["counter"])
    assert client.post("/api/v1/counters/1/call-next", headers=device).status_code == 200
    assert client.post("/api/v1/counters/5/call-next", headers=device).get_json()["number"] == "P001"
    refused = client.post("/api/v1/counters/2/take", headers=device)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "staff_only"
    desk = client.get("/api/v1/counters/1/desk", headers=device).get_json()
    assert desk["holder"]["username"] == "sari" and desk["served"] == 0


def test_work_page_needs_the_hold_and_logout_releases(app, client):
    add_user(app, "sari")
    headers = log_in(client, "sari")
    away = client.get("/counter/2", follow_redirects=True)
    assert away.request.path == "/counter/choose" and "Ambil Loket 2 dulu" in text(away)
    took = client.post("/counter/take", data={"csrf_token": headers["X-CSRF-Token"], "counter_id": "2"})
    assert took.status_code == 303 and took.headers["Location"].endswith("/counter/2")
    page = client.get("/counter/2?lang=en")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Call next" in body and 'lang="en"' in body
    config = json.loads(re.search(r'<script type="application/json" id="counter-config">(.*?)</script>',
                                  body, re.S).group(1))
    assert config["counter_id"] == 2 and config["messages"]["en"]["Panggil berikutnya"] == "Call next"
    assert client.get("/counter").headers["Location"].endswith("/counter/2")
    assert client.post("/counter/logout", data={}).status_code == 303  # no token: nothing happens
    assert client.get("/api/v1/counter-sessions").status_code == 200
    client.post("/counter/logout", data={"csrf_token": headers["X-CSRF-Token"]})
    store = app.extensions["antre"].store
    with store.read() as db:
        assert db.conn.execute("SELECT COUNT(*) FROM counter_sessions").fetchone()[0] == 0
    assert client.get("/api/v1/counter-sessions").status_code == 401


def test_a_staff_session_survives_a_server_restart(app, client, clock):
    from server import create_app

    add_user(app, "sari")
    headers = log_in(client, "sari")
    cookie = client.get_cookie("antre_session")
    restarted = create_app(app.extensions["antre"].settings, clock=clock)
    try:
        again = restarted.test_client()
        again.set_cookie("antre_session", cookie.value)
        assert again.get("/counter/choose").status_code == 200
        assert again.post("/api/v1/counters/1/take", headers=headers).status_code == 200
    finally:
        restarted.extensions["antre"].store.close()


def test_counter_page_pairs_a_counter_device(app, client, tokens):
    bad = client.get("/counter?token=nonsense")
    assert bad.status_code == 403 and "Token tidak sah" in text(bad)
    paired = client.get(f"/counter?token={tokens['counter']}")
    assert paired.status_code == 302 and paired.headers["Location"] == "/counter"
    chooser = client.get("/counter", follow_redirects=True)
    assert chooser.request.path == "/counter/choose" and "Buka Loket 26" in text(chooser)
    assert client.get("/counter/5").status_code == 200


def test_openapi_describes_the_counter_routes_as_they_answer(app, client, tokens):
    doc = client.get("/openapi.json").get_json()
    for path in ("/api/v1/counters/{id}/desk", "/api/v1/counter-sessions", "/api/v1/counters/{id}/take",
                 "/api/v1/counters/{id}/release"):
        assert path in doc["paths"], path
    desk = client.get("/api/v1/counters/1/desk", headers=bearer(tokens["counter"])).get_json()
    assert set(desk) == set(doc["components"]["schemas"]["CounterDesk"]["properties"])
    assert doc["paths"]["/api/v1/counters/{id}/call-next"]["post"]["requestBody"]["required"] is False


@pytest.mark.slow
def test_two_clerks_calling_at_the_same_moment_never_get_the_same_ticket(live_server):
    """Real server, real HTTP: two staff sessions on two counters sharing a service, fired together."""
    data_dir = live_server.data_dir
    from antre.store import Store

    store = Store(data_dir)
    try:
        for name in ("sari", "budi"):
            create_user(store, name, PASSWORD, "counter", tenant_id=1)
    finally:
        store.close()
    kiosk = live_server.token("kiosk")
    for _ in range(20):
        assert live_server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1}).status_code == 201

    def session(name: str, counter_id: int) -> tuple[requests.Session, dict[str, str]]:
        s = requests.Session()
        token = csrf_of(s.get(live_server.url + "/counter", timeout=10).text)
        s.post(live_server.url + "/counter/login", data={"csrf_token": token, "username": name,
                                                          "password": PASSWORD}, timeout=10)
        headers = {"X-CSRF-Token": csrf_of(s.get(live_server.url + "/counter/choose", timeout=10).text)}
        assert s.post(f"{live_server.url}/api/v1/counters/{counter_id}/take", headers=headers,
                      timeout=10).status_code == 200
        return s, headers

    clerks = [(1, *session("sari", 1)), (2, *session("budi", 2))]  # Loket 1 and 2 both serve A
    barrier = threading.Barrier(2)
    called: dict[int, list[str]] = {1: [], 2: []}
    errors: list[str] = []

    def work(counter_id: int, s: requests.Session, headers: dict[str, str]) -> None:
        while True:
            try:
                barrier.wait(timeout=10)  # both clerks press at the same moment
            except threading.BrokenBarrierError:
                pass  # the other one is done
            r = s.post(f"{live_server.url}/api/v1/counters/{counter_id}/call-next", headers=headers, timeout=10)
            if r.status_code != 200:
                if r.status_code != 404:
                    errors.append(r.text)
                barrier.abort()
                return
            called[counter_id].append(r.json()["number"])

    threads = [threading.Thread(target=work, args=c) for c in clerks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    numbers = called[1] + called[2]
    assert len(numbers) == 20 and len(set(numbers)) == 20, Counter(numbers).most_common(3)
    assert called[1] and called[2]
    events = live_server.api("GET", "/api/v1/events?limit=1000", live_server.token("admin")).json()["events"]
    per_ticket = Counter(e["ticket"]["id"] for e in events if e["type"] == "ticket.called")
    assert len(per_ticket) == 20 and set(per_ticket.values()) == {1}


def test_every_counter_text_has_its_english_and_no_other_catalog_overrides_it(app):
    from babel.messages.pofile import read_po
    from flask_babel import force_locale, gettext, pgettext
    from jinja2.ext import babel_extract

    from counter.views import JS_MESSAGES, PAUSE_REASONS

    root = Path(__file__).resolve().parents[1] / "counter"
    with (root / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    used: set[tuple[str | None, str]] = {(None, m) for m in JS_MESSAGES} | {("counter", r) for r in PAUSE_REASONS}
    for template in (root / "templates/counter").glob("*.html"):
        with template.open("rb") as f:
            for _line, func, message, _comments in babel_extract(f, ["_", "gettext", "pgettext"], [], {}):
                if func == "pgettext":
                    if message[1]:  # pgettext("counter", reason): the reasons, added above
                        used.add((message[0], message[1]))
                else:  # _("text", name=...) comes as a tuple
                    used.add((None, message if isinstance(message, str) else message[0]))
    entries = {(m.context, m.id): m.string for m in catalog if m.id}
    missing, unused = used - set(entries), set(entries) - used
    assert not missing, f"no English for {sorted(missing, key=str)}"
    assert not unused, f"unused catalog entries {sorted(unused, key=str)}"
    with app.test_request_context("/counter"), force_locale("en"):
        shown = {(ctx, msgid): pgettext(ctx, msgid) if ctx else gettext(msgid) for ctx, msgid in used}
    overridden = {k: (v, entries[k]) for k, v in shown.items() if v != entries[k]}
    assert not overridden, "another part's catalog translates these differently"
