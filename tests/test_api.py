"""Every endpoint of REST v1 and every refusal: JSON 4xx, and nothing changed."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import bearer


def _count(app, table: str) -> int:
    with app.extensions["antre"].store.read() as db:
        return db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - test-only


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body


def issue(client, tokens, service_id=1, **extra):
    return client.post("/api/v1/tickets", json={"service_id": service_id, **extra}, headers=bearer(tokens["kiosk"]))


def test_services_list_has_the_contract_fields(client, tokens):
    r = client.get("/api/v1/services", headers=bearer(tokens["display"]))
    assert r.status_code == 200
    services = r.get_json()
    assert len(services) >= 40
    for s in services:
        assert {"id", "code", "name", "tenant", "open", "waiting", "eta_minutes", "quota_left"} <= set(s)
        assert set(s["tenant"]) == {"id", "name"}
    assert len({s["tenant"]["id"] for s in services}) >= 12
    imigrasi = next(s for s in services if s["code"] == "P")
    assert imigrasi["quota_left"] == 30


def test_issue_a_ticket(client, tokens, app):
    r = issue(client, tokens, priority=True, lang="en", priority_reason="elderly")
    assert r.status_code == 201
    t = r.get_json()
    assert t["number"] == "A001" and t["priority"] is True and t["status"] == "waiting"
    got = client.get(f"/api/v1/tickets/{t['id']}", headers=bearer(tokens["feed"])).get_json()
    assert got == t
    with app.extensions["antre"].store.read() as db:
        row = db.conn.execute("SELECT details, actor FROM audit WHERE action = 'ticket.issued'").fetchone()
    assert json.loads(row["details"])["priority_reason"] == "elderly"
    assert row["actor"].startswith("kiosk:")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "invalid_service_id"),
    ({"service_id": "1"}, 400, "invalid_service_id"),
    ({"service_id": True}, 400, "invalid_service_id"),
    ({"service_id": -4}, 400, "invalid_service_id"),
    ({"service_id": 10**30}, 400, "invalid_service_id"),
    ({"service_id": 1, "priority": "yes"}, 400, "invalid_priority"),
    ({"service_id": 1, "lang": "fr"}, 400, "invalid_lang"),
    ({"service_id": 999}, 404, "service_not_found"),
    ([1, 2], 400, "invalid_json"),
])
def test_issue_refusals_change_nothing(client, tokens, app, body, status, code):
    before = _count(app, "tickets"), _count(app, "events")
    r = client.post("/api/v1/tickets", json=body, headers=bearer(tokens["kiosk"]))
    _error(r, status, code)
    assert (_count(app, "tickets"), _count(app, "events")) == before


def test_bad_bodies_and_methods(client, tokens):
    h = bearer(tokens["kiosk"])
    _error(client.post("/api/v1/tickets", data="{nope", headers={**h, "Content-Type": "application/json"}), 400)
    _error(client.post("/api/v1/tickets", data="service_id=1", headers={**h, "Content-Type": "text/plain"}), 415)
    _error(client.post("/api/v1/tickets", headers=h), 400, "invalid_json")
    _error(client.delete("/api/v1/tickets", headers=h), 405, "method_not_allowed")
    _error(client.get("/api/v1/nothing-here", headers=h), 404, "not_found")
    _error(client.get("/api/v1/tickets/abc", headers=h), 404)
    _error(client.get("/api/v1/tickets/99999999999999999999999999", headers=h), 404)
    big = {"service_id": 1, "pad": "x" * (2 * 1024 * 1024)}
    _error(client.post("/api/v1/tickets", json=big, headers=h), 413)


def test_auth_refusals(client, tokens):
    _error(client.get("/api/v1/services"), 401, "unauthorized")
    _error(client.get("/api/v1/services", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")
    _error(client.get("/api/v1/services", headers={"Authorization": "Basic eDp5"}), 401)
    _error(issue(client, {"kiosk": tokens["display"]}), 403, "forbidden")
    _error(client.post("/api/v1/counters/1/call-next", headers=bearer(tokens["kiosk"])), 403)
    _error(client.get("/api/v1/events", headers=bearer(tokens["counter"])), 403)
    _error(client.post("/api/v1/webhooks", json={"url": "http://x", "secret": "s" * 20},
                       headers=bearer(tokens["feed"])), 403)


def test_revoked_token_is_refused(client, tokens, app):
    from antre.auth import list_tokens, revoke_token
    from web.auth import forget_cached_tokens

    store = app.extensions["antre"].store
    display = next(t for t in list_tokens(store) if t["role"] == "display")
    revoke_token(store, display["id"])
    forget_cached_tokens()
    _error(client.get("/api/v1/services", headers=bearer(tokens["display"])), 401, "invalid_token")


def test_counter_flow_over_the_api(client, tokens):
    c = bearer(tokens["counter"])
    a1 = issue(client, tokens).get_json()
    a2 = issue(client, tokens).get_json()
    _error(client.post("/api/v1/counters/1/start", headers=c), 409, "no_current_ticket")
    called = client.post("/api/v1/counters/1/call-next", headers=c).get_json()
    assert called["id"] == a1["id"] and called["status"] == "called" and called["counter_id"] == 1
    assert client.post("/api/v1/counters/1/recall", headers=c).get_json()["status"] == "called"
    assert client.post("/api/v1/counters/1/start", headers=c).get_json()["status"] == "serving"
    _error(client.post("/api/v1/counters/1/no-show", headers=c), 409, "invalid_state")
    assert client.post("/api/v1/counters/1/finish", headers=c).get_json()["status"] == "served"
    assert client.post("/api/v1/counters/1/call-next", headers=c).get_json()["id"] == a2["id"]
    assert client.post("/api/v1/counters/1/no-show", headers=c).get_json()["status"] == "no_show"
    _error(client.post("/api/v1/counters/1/call-next", headers=c), 404, "queue_empty")
    _error(client.post("/api/v1/counters/999/call-next", headers=c), 404, "counter_not_found")
    counters = client.get("/api/v1/counters", headers=c).get_json()
    assert {"id", "name", "service_ids", "current_ticket"} <= set(counters[0])
    status = client.get("/api/v1/status", headers=c).get_json()
    assert {"generated_at", "services", "counters"} == set(status)
    assert {"service_id", "code", "name", "waiting", "serving", "eta_minutes", "open", "quota_left"} <= set(
        status["services"][0])
    assert {"id", "name", "current_number"} <= set(status["counters"][0])


def test_call_next_ends_the_held_ticket_as_served(client, tokens):
    c = bearer(tokens["counter"])
    first = issue(client, tokens).get_json()
    issue(client, tokens)
    client.post("/api/v1/counters/1/call-next", headers=c)
    client.post("/api/v1/counters/1/call-next", headers=c)
    assert client.get(f"/api/v1/tickets/{first['id']}", headers=c).get_json()["status"] == "served"


def test_transfer_over_the_api(client, tokens):
    c = bearer(tokens["counter"])
    t = issue(client, tokens).get_json()
    client.post("/api/v1/counters/1/call-next", headers=c)
    _error(client.post("/api/v1/counters/1/transfer", json={"service_id": 1}, headers=c), 409, "same_service")
    _error(client.post("/api/v1/counters/1/transfer", json={}, headers=c), 400)
    _error(client.post("/api/v1/counters/1/transfer", json={"service_id": "B"}, headers=c), 400)
    _error(client.post("/api/v1/counters/1/transfer", json={"service_id": 9999}, headers=c), 404)
    moved = client.post("/api/v1/counters/1/transfer", json={"service_id": 2}, headers=c).get_json()
    assert moved["number"] == t["number"] and moved["service_id"] == 2 and moved["status"] == "waiting"


def test_events_cursor(client, tokens):
    for _ in range(5):
        issue(client, tokens)
    f = bearer(tokens["feed"])
    page = client.get("/api/v1/events?after=0&limit=3", headers=f).get_json()
    assert [e["id"] for e in page["events"]] == [1, 2, 3] and page["next"] == 3
    rest = client.get(f"/api/v1/events?after={page['next']}", headers=f).get_json()
    assert [e["id"] for e in rest["events"]] == [4, 5]
    empty = client.get("/api/v1/events?after=5", headers=f).get_json()
    assert empty == {"events": [], "next": 5}
    event = page["events"][0]
    assert set(event) == {"id", "type", "occurred_at", "ticket"} and event["type"] == "ticket.issued"
    for bad in ("after=-1", "after=x", "limit=0", "limit=5000", "limit=1.5"):
        _error(client.get(f"/api/v1/events?{bad}", headers=f), 400)


def test_bookings_and_check_in(client, tokens):
    f, k = bearer(tokens["feed"]), bearer(tokens["kiosk"])
    r = client.post("/api/v1/bookings", json={"code": "MPP12345", "service_id": 7,
                                               "slot_start": "2026-11-23T08:30:00+07:00", "name": "Budi"}, headers=f)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "booked"
    _error(client.post("/api/v1/bookings", json={"code": "MPP12345", "service_id": 7,
                                                  "slot_start": "2026-11-23T09:00:00+07:00"}, headers=f),
           409, "booking_exists")
    _error(client.post("/api/v1/bookings", json={"code": "x", "service_id": 7,
                                                  "slot_start": "2026-11-23T09:00:00+07:00"}, headers=f), 400)
    _error(client.post("/api/v1/bookings", json={"code": "GOOD1234", "service_id": 7, "slot_start": "tomorrow"},
                       headers=f), 400, "invalid_slot")
    ticket = client.post("/api/v1/bookings/mpp12345/check-in", headers=k)
    assert ticket.status_code == 201
    assert ticket.get_json()["number"].startswith("P")
    _error(client.post("/api/v1/bookings/MPP12345/check-in", headers=k), 409, "booking_used")
    _error(client.post("/api/v1/bookings/UNKNOWN1/check-in", headers=k), 404, "booking_not_found")


def test_webhook_registration(client, tokens):
    a = bearer(tokens["admin"])
    r = client.post("/api/v1/webhooks", json={"url": "https://mpp.example.go.id/hook", "secret": "s3cret-s3cret-123"},
                    headers=a)
    assert r.status_code == 201 and set(r.get_json()) == {"id", "url"}
    for body in ({"url": "ftp://x", "secret": "s" * 20}, {"url": "https://x"}, {"url": "https://x", "secret": "short"},
                 {"url": "http://:80", "secret": "s" * 20}, {"url": "http://x:99999", "secret": "s" * 20}):
        _error(client.post("/api/v1/webhooks", json=body, headers=a), 400)


def test_openapi_document_describes_every_route(client, app):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    def shape(path: str) -> str:  # parameter names may differ; their places may not
        return re.sub(r"\{[^}]*\}", "{}", path)

    documented = {(shape(path), method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = shape(re.sub(r"<[^>]*>", "{}", rule.rule))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is not in /openapi.json"
