"""The feed's REST API over the Flask app: events cursor, bookings (quota split,
queue place, every refusal), webhook administration and the feed settings."""

from __future__ import annotations

from typing import Any

import pytest

from antre.clock import FrozenClock
from tests.conftest import bearer

PASPOR = 7  # demo: Imigrasi "Paspor Baru" (prefix P), walk-in and online quotas of its own


def post(client: Any, path: str, token: str, body: Any = None) -> Any:
    return client.post(path, json=body, headers=bearer(token)) if body is not None else client.post(
        path, headers=bearer(token))


def event_count(app: Any) -> int:
    return app.extensions["antre"].queue.last_event_id()


def service_id(client: Any, tokens: dict[str, str], code: str) -> int:
    services = client.get("/api/v1/services", headers=bearer(tokens["kiosk"])).get_json()
    return next(s["id"] for s in services if s["code"] == code)


def set_quota(app: Any, sid: int, walkin: int | None, online: int | None) -> None:
    store = app.extensions["antre"].store
    with store.write() as db:
        db.conn.execute("UPDATE services SET quota_walkin = ?, quota_online = ? WHERE id = ?", (walkin, online, sid))


def book(client: Any, tokens: dict[str, str], code: str, slot: str, sid: int = 1) -> Any:
    return post(client, "/api/v1/bookings", tokens["feed"],
                {"code": code, "service_id": sid, "slot_start": slot, "name": "Siti Aminah"})


def check_in(client: Any, tokens: dict[str, str], code: str) -> Any:
    return post(client, f"/api/v1/bookings/{code}/check-in", tokens["kiosk"])


# --------------------------------------------------------------------- events


def test_events_cursor_pages_in_id_order(client: Any, tokens: dict[str, str]) -> None:
    for _ in range(5):
        assert post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1}).status_code == 201
    seen: list[int] = []
    after = 0
    while True:
        r = client.get(f"/api/v1/events?after={after}&limit=2", headers=bearer(tokens["feed"]))
        assert r.status_code == 200
        page = r.get_json()
        if not page["events"]:
            assert page["next"] == after  # an empty page keeps the cursor
            break
        assert len(page["events"]) <= 2 and page["next"] == page["events"][-1]["id"]
        seen += [e["id"] for e in page["events"]]
        after = page["next"]
    assert seen == sorted(seen) and len(seen) == 5
    event = client.get("/api/v1/events?limit=1", headers=bearer(tokens["admin"])).get_json()["events"][0]
    assert set(event) == {"id", "type", "occurred_at", "ticket"} and event["type"] == "ticket.issued"
    for bad in ("limit=0", "limit=1001", "after=-1", "after=x"):
        r = client.get(f"/api/v1/events?{bad}", headers=bearer(tokens["feed"]))
        assert r.status_code == 400 and r.get_json()["error"]["code"].startswith("invalid_")
    assert client.get("/api/v1/events", headers=bearer(tokens["kiosk"])).status_code == 403
    assert client.get("/api/v1/events").status_code == 401


def test_status_for_the_platform(client: Any, tokens: dict[str, str]) -> None:
    post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1})
    post(client, "/api/v1/counters/1/call-next", tokens["counter"])
    post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1})
    status = client.get("/api/v1/status", headers=bearer(tokens["feed"])).get_json()
    ktp = next(s for s in status["services"] if s["service_id"] == 1)
    assert ktp["waiting"] == 1 and ktp["serving"] == ["A001"] and ktp["open"] is True
    assert next(c for c in status["counters"] if c["id"] == 1)["current_number"] == "A001"


# ------------------------------------------------------------------- bookings


def test_booking_is_created_and_refusals_are_clear(client: Any, tokens: dict[str, str]) -> None:
    r = book(client, tokens, "mpd0001", "2026-11-23T09:00:00+07:00")
    assert r.status_code == 201
    assert r.get_json() == {"code": "MPD0001", "service_id": 1, "slot_start": "2026-11-23T09:00:00+07:00",
                            "name": "Siti Aminah", "status": "booked", "ticket_id": None}
    cases = [
        ({"code": "MPD0001", "service_id": 1, "slot_start": "2026-11-23T09:00:00+07:00"}, 409, "booking_exists"),
        ({"code": "MPD0002", "service_id": 9999, "slot_start": "2026-11-23T09:00:00+07:00"}, 404,
         "service_not_found"),
        ({"code": "MPD0002", "service_id": 1, "slot_start": "tomorrow morning"}, 400, "invalid_slot"),
        ({"code": "MPD0002", "service_id": 1, "slot_start": "2026-11-22T09:00:00+07:00"}, 409, "booking_in_past"),
        ({"code": "M-1", "service_id": 1, "slot_start": "2026-11-23T09:00:00+07:00"}, 400, "invalid_code"),
        ({"code": "MPD0002", "service_id": "1", "slot_start": "2026-11-23T09:00:00+07:00"}, 400,
         "invalid_service_id"),
    ]
    for body, status, code in cases:
        r = post(client, "/api/v1/bookings", tokens["feed"], body)
        assert (r.status_code, r.get_json()["error"]["code"]) == (status, code), body
    assert post(client, "/api/v1/bookings", tokens["kiosk"], cases[1][0]).status_code == 403


def test_booking_outside_opening_hours_is_refused(app: Any, client: Any, tokens: dict[str, str]) -> None:
    store = app.extensions["antre"].store
    with store.write() as db:
        db.conn.execute("""UPDATE services SET hours = '{"mon": [["08:00", "15:00"]]}' WHERE id = 2""")
    r = book(client, tokens, "NIGHT001", "2026-11-23T19:00:00+07:00", sid=2)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "booking_outside_hours"
    assert book(client, tokens, "DAY00001", "2026-11-23T10:00:00+07:00", sid=2).status_code == 201


def test_quotas_are_split_between_online_and_walk_in(app: Any, client: Any, tokens: dict[str, str]) -> None:
    sid = service_id(client, tokens, "P")
    assert sid == PASPOR
    set_quota(app, sid, walkin=2, online=2)
    assert book(client, tokens, "ONL00001", "2026-11-23T08:15:00+07:00", sid).status_code == 201
    assert book(client, tokens, "ONL00002", "2026-11-23T08:30:00+07:00", sid).status_code == 201
    r = book(client, tokens, "ONL00003", "2026-11-23T08:45:00+07:00", sid)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "quota_reached"
    assert book(client, tokens, "ONL00003", "2026-11-24T08:45:00+07:00", sid).status_code == 201  # another day

    for _ in range(2):
        assert post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": sid}).status_code == 201
    r = post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": sid})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "quota_reached"
    # The walk-in quota is used up, the booked visitors still get their tickets.
    assert check_in(client, tokens, "ONL00001").status_code == 201
    assert check_in(client, tokens, "ONL00002").status_code == 201
    services = client.get("/api/v1/services", headers=bearer(tokens["kiosk"])).get_json()
    assert next(s for s in services if s["id"] == sid)["quota_left"] == 0

    # Cancelling a booking frees its online place (and cancelling again is harmless).
    r = post(client, "/api/v1/bookings/ONL00003/cancel", tokens["feed"])
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert post(client, "/api/v1/bookings/onl00003/cancel", tokens["feed"]).status_code == 200
    r = post(client, "/api/v1/bookings/ONL00001/cancel", tokens["feed"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "booking_used"
    assert post(client, "/api/v1/bookings/NOPE0000/cancel", tokens["feed"]).status_code == 404
    assert post(client, "/api/v1/bookings/ONL00003/cancel", tokens["kiosk"]).status_code == 403


def test_every_check_in_refusal_is_clear_and_changes_nothing(
    app: Any, client: Any, tokens: dict[str, str], clock: FrozenClock,
) -> None:
    assert book(client, tokens, "USED0001", "2026-11-23T08:00:00+07:00").status_code == 201
    assert book(client, tokens, "LATE0001", "2026-11-23T07:00:00+07:00").status_code == 201
    assert book(client, tokens, "EARLY001", "2026-11-23T10:00:00+07:00").status_code == 201
    assert book(client, tokens, "TMRW0001", "2026-11-24T08:00:00+07:00").status_code == 201
    assert book(client, tokens, "GONE0001", "2026-11-23T08:00:00+07:00").status_code == 201
    assert post(client, "/api/v1/bookings/GONE0001/cancel", tokens["feed"]).status_code == 200
    first = check_in(client, tokens, "used0001")  # typed in lower case at the kiosk
    assert first.status_code == 201 and first.get_json()["number"] == "A001"
    before = event_count(app)

    expected = {
        "USED0001": (409, "booking_used", "A001"),
        "LATE0001": (409, "booking_expired", "07:30"),
        "EARLY001": (409, "booking_too_early", "09:00"),
        "TMRW0001": (409, "booking_not_today", "24-11-2026"),
        "GONE0001": (409, "booking_cancelled", "dibatalkan"),
        "NOSUCH01": (404, "booking_not_found", "tidak dikenal"),
    }
    for code, (status, error, text) in expected.items():
        r = check_in(client, tokens, code)
        body = r.get_json()
        assert (r.status_code, body["error"]["code"]) == (status, error), code
        assert text in body["error"]["message"], body
        assert "(" in body["error"]["message"]  # Indonesian, then English
    assert check_in(client, tokens, "EARLY001").get_json()["error"]["details"]["check_in_from"] == \
        "2026-11-23T09:00:00+07:00"
    assert event_count(app) == before  # no refusal issued anything
    assert client.get("/api/v1/bookings/EARLY001", headers=bearer(tokens["kiosk"])).get_json()["status"] == "booked"
    # yesterday's booking seen the next day is expired, not "not today"
    clock.advance(86400)
    assert check_in(client, tokens, "EARLY001").get_json()["error"]["code"] == "booking_expired"


def _positions(client: Any, tokens: dict[str, str]) -> list[str]:
    waiting = client.get("/api/v1/counters/1/waiting", headers=bearer(tokens["counter"])).get_json()
    return [t["number"] for t in waiting if t["service_id"] == 1]


def test_slot_mode_keeps_the_slots_place_and_arrival_mode_joins_at_the_end(
    client: Any, tokens: dict[str, str], clock: FrozenClock,
) -> None:
    r = client.get("/api/v1/feed/settings", headers=bearer(tokens["admin"]))
    assert r.get_json()["booking_queue_mode"] == "slot"
    assert book(client, tokens, "SLOT0001", "2026-11-23T08:10:00+07:00").status_code == 201
    assert book(client, tokens, "ARRV0001", "2026-11-23T08:10:00+07:00").status_code == 201
    assert book(client, tokens, "EARLY002", "2026-11-23T09:00:00+07:00").status_code == 201
    post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1})  # A001 at 08:00
    clock.advance(20 * 60)
    post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1})  # A002 at 08:20
    clock.advance(5 * 60)
    slot = check_in(client, tokens, "SLOT0001").get_json()  # A003 at 08:25 for the 08:10 slot
    assert slot["number"] == "A003" and slot["position"] == 1
    assert _positions(client, tokens) == ["A001", "A003", "A002"]
    early = check_in(client, tokens, "EARLY002").get_json()  # A004 at 08:25 for the 09:00 slot
    assert early["position"] == 3

    r = client.put("/api/v1/feed/settings", json={"booking_queue_mode": "arrival"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.get_json()["booking_queue_mode"] == "arrival"
    clock.advance(60)
    arrival = check_in(client, tokens, "ARRV0001").get_json()  # A005 at 08:26: behind the walk-ins
    assert _positions(client, tokens) == ["A001", "A003", "A002", "A005", "A004"]
    assert arrival["position"] == 3


def test_check_in_windows_are_settings(client: Any, tokens: dict[str, str], clock: FrozenClock) -> None:
    admin = bearer(tokens["admin"])
    assert book(client, tokens, "WIN00001", "2026-11-23T08:45:00+07:00").status_code == 201
    r = client.put("/api/v1/feed/settings", json={"booking_early_minutes": 30}, headers=admin)
    assert r.status_code == 200
    assert check_in(client, tokens, "WIN00001").get_json()["error"]["code"] == "booking_too_early"
    clock.advance(15 * 60)
    assert check_in(client, tokens, "WIN00001").status_code == 201
    assert book(client, tokens, "WIN00002", "2026-11-23T08:00:00+07:00").status_code == 201
    client.put("/api/v1/feed/settings", json={"booking_late_minutes": 10}, headers=admin)
    assert check_in(client, tokens, "WIN00002").get_json()["error"]["code"] == "booking_expired"
    client.put("/api/v1/feed/settings", json={"booking_late_minutes": 20}, headers=admin)
    assert check_in(client, tokens, "WIN00002").status_code == 201


# ------------------------------------------------------------------- settings


def test_feed_settings_validate_every_key(client: Any, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    defaults = client.get("/api/v1/feed/settings", headers=admin).get_json()
    assert defaults == {"booking_queue_mode": "slot", "booking_early_minutes": 60, "booking_late_minutes": 30,
                        "webhook_connect_timeout_s": 3.0, "webhook_read_timeout_s": 10.0,
                        "webhook_backoff_min_s": 1.0, "webhook_backoff_max_s": 300.0, "webhook_lease_s": 10.0}
    bad = [{"booking_queue_mode": "fifo"}, {"booking_early_minutes": -1}, {"booking_early_minutes": True},
           {"booking_late_minutes": 721}, {"webhook_read_timeout_s": 0}, {"webhook_read_timeout_s": "5"},
           {"booking_late_minutes": 30.5}]
    for body in bad:
        r = client.put("/api/v1/feed/settings", json=body, headers=admin)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_setting", body
    r = client.put("/api/v1/feed/settings", json={"colour": "red"}, headers=admin)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_setting"
    assert client.get("/api/v1/feed/settings", headers=admin).get_json() == defaults  # nothing changed
    r = client.put("/api/v1/feed/settings", json={"webhook_backoff_max_s": 60, "booking_late_minutes": 45.0},
                   headers=admin)
    assert r.status_code == 200 and r.get_json()["webhook_backoff_max_s"] == 60
    assert r.get_json()["booking_late_minutes"] == 45
    r = client.put("/api/v1/feed/settings", json={"webhook_backoff_min_s": 90}, headers=admin)
    assert r.get_json()["webhook_backoff_max_s"] == 90  # a ceiling below the floor counts as the floor
    assert client.put("/api/v1/feed/settings", json={}, headers=bearer(tokens["feed"])).status_code == 403


# ------------------------------------------------------------------- webhooks


@pytest.fixture
def hook(client: Any, tokens: dict[str, str]) -> int:
    r = post(client, "/api/v1/webhooks", tokens["admin"],
             {"url": "http://127.0.0.1:9/platform", "secret": "a-very-secret-value"})
    assert r.status_code == 201
    return r.get_json()["id"]


def test_webhook_admin_sees_backlog_and_can_pause_resume_and_delete(
    client: Any, tokens: dict[str, str], hook: int,
) -> None:
    admin = tokens["admin"]
    for _ in range(3):
        post(client, "/api/v1/tickets", tokens["kiosk"], {"service_id": 1})
    one = client.get(f"/api/v1/webhooks/{hook}", headers=bearer(admin)).get_json()
    assert one["backlog"] == 3 and one["state"] == "delivering" and one["attempts"] == 0
    assert client.get("/api/v1/webhooks", headers=bearer(admin)).get_json() == [one]
    paused = post(client, f"/api/v1/webhooks/{hook}/pause", admin).get_json()
    assert paused["state"] == "paused" and paused["active"] is False
    resumed = post(client, f"/api/v1/webhooks/{hook}/resume", admin).get_json()
    assert resumed["active"] is True and resumed["next_attempt_at"] is None
    r = client.delete(f"/api/v1/webhooks/{hook}", headers=bearer(admin))
    assert r.status_code == 200 and r.get_json() == {"id": hook, "url": "http://127.0.0.1:9/platform",
                                                     "deleted": True}
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/pause"), ("POST", "/resume")):
        r = client.open(f"/api/v1/webhooks/{hook}{path}", method=method, headers=bearer(admin))
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "webhook_not_found"
    assert client.get("/api/v1/webhooks", headers=bearer(admin)).get_json() == []


def test_webhook_secret_is_never_shown_and_only_admins_manage_webhooks(
    client: Any, tokens: dict[str, str], hook: int,
) -> None:
    for path in ("/api/v1/webhooks", f"/api/v1/webhooks/{hook}"):
        assert "a-very-secret-value" not in client.get(path, headers=bearer(tokens["admin"])).get_data(as_text=True)
    for role in ("feed", "counter", "kiosk", "display"):
        assert client.get(f"/api/v1/webhooks/{hook}", headers=bearer(tokens[role])).status_code == 403
        assert client.delete(f"/api/v1/webhooks/{hook}", headers=bearer(tokens[role])).status_code == 403
    bad = [{"url": "ftp://x", "secret": "0123456789abcdef"}, {"url": "http://x", "secret": "short"},
           {"url": "http://x:99999/", "secret": "0123456789abcdef"}]
    for body in bad:
        assert post(client, "/api/v1/webhooks", tokens["admin"], body).status_code == 400
