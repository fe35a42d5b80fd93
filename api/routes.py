"""REST v1: thin translation of HTTP to :mod:`antre.queue` calls.

Every route validates its input, runs the core off the event loop
(:meth:`web.context.Antre.change` publishes what was committed) and answers
JSON.  Refusals are :class:`~antre.rules.RuleError` and become 4xx JSON errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, jsonify, request

from antre.queue import UNCHECKED, Outcome
from antre.rules import Invalid, NotFound
from web.auth import require
from web.context import antre
from web.errors import json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_EVENTS = 1000


def _int_field(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**62:
        value = int(value)  # JSON has one number type: 7.0 is the integer 7
    if not isinstance(value, int) or isinstance(value, bool) or not (0 < value < 2**62):
        raise Invalid(f"invalid_{name}", f"{name} harus bilangan bulat positif. ({name} must be a positive integer.)")
    return value


def _query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"invalid_{name}", f"{name} harus bilangan bulat. ({name} must be an integer.)") from None
    if not low <= value <= high:
        raise Invalid(f"invalid_{name}", f"{name} harus antara {low} dan {high}. ({name} out of range.)")
    return value


def _expect_current(body: dict[str, Any]) -> Any:
    """Optional ``expect_current``: the ticket id (or null) the caller believes the counter holds.

    When given and wrong, the action is refused with 409 ``stale_state``, so a
    double click or a second browser tab never acts twice.
    """
    if "expect_current" not in body:
        return UNCHECKED
    value = body["expect_current"]
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**62:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not (0 < value < 2**62):
        raise Invalid("invalid_expect_current",
                      "expect_current harus id tiket atau null. (expect_current must be a ticket id or null.)")
    return value


def _created(payload: Any) -> Any:
    response = jsonify(payload)
    response.status_code = 201
    return response


# ------------------------------------------------------------------ services


@bp.get("/services")
@require("any")
def services() -> Any:
    return jsonify(antre().run(antre().queue.services))


@bp.get("/tenants")
@require("any")
def tenants() -> Any:
    return jsonify(antre().run(antre().queue.tenants))


@bp.get("/status")
@require("any")
def status() -> Any:
    return jsonify(antre().run(antre().queue.status))


# ------------------------------------------------------------------- tickets


@bp.post("/tickets")
@require("kiosk", "admin")
def issue_ticket() -> Any:
    body = json_body()
    service_id = _int_field(body, "service_id")
    priority = body.get("priority", False)
    lang = body.get("lang", "id")
    reason = body.get("priority_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 40):
        raise Invalid("invalid_priority_reason", "priority_reason tidak sah. (Invalid priority_reason.)")
    outcome = antre().change(
        antre().queue.issue, service_id, priority=priority, lang=lang, actor=g.actor, priority_reason=reason
    )
    return _created(outcome.ticket)


@bp.get("/tickets/<id:ticket_id>")
@require("any")
def get_ticket(ticket_id: int) -> Any:
    return jsonify(antre().run(antre().queue.ticket, ticket_id))


@bp.post("/tickets/<id:ticket_id>/cancel")
@require("counter", "admin")
def cancel_ticket(ticket_id: int) -> Any:
    body = json_body(required=False)
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        raise Invalid("invalid_reason", "Alasan tidak sah. (Invalid reason.)")
    outcome = antre().change(antre().queue.cancel, ticket_id, g.actor, reason)
    return jsonify(outcome.ticket)


# ------------------------------------------------------------------ counters


@bp.get("/counters")
@require("any")
def counters() -> Any:
    return jsonify(antre().run(antre().queue.counters))


@bp.get("/counters/<id:counter_id>")
@require("any")
def counter(counter_id: int) -> Any:
    return jsonify(antre().run(antre().queue.counter, counter_id))


@bp.get("/counters/<id:counter_id>/waiting")
@require("counter", "admin")
def counter_waiting(counter_id: int) -> Any:
    return jsonify(antre().run(antre().queue.waiting_list, counter_id, g.actor))


@bp.post("/counters/<id:counter_id>/call-next")
@require("counter", "admin")
def call_next(counter_id: int) -> Any:
    expect = _expect_current(json_body(required=False))
    outcome = antre().change(antre().queue.call_next, counter_id, g.actor, expect_current=expect)
    if outcome.ticket is None:
        raise NotFound("queue_empty", "Tidak ada antrian yang menunggu. (Nothing is waiting.)")
    return jsonify(outcome.ticket)


@bp.post("/counters/<id:counter_id>/call")
@require("counter", "admin")
def call_specific(counter_id: int) -> Any:
    body = json_body()
    outcome = antre().change(
        antre().queue.call_specific, counter_id, body.get("number"), body.get("reason"), g.actor,
        expect_current=_expect_current(body),
    )
    return jsonify(outcome.ticket)


def _counter_action(counter_id: int, method: str) -> Any:
    expect = _expect_current(json_body(required=False))
    outcome = antre().change(getattr(antre().queue, method), counter_id, g.actor, expect_current=expect)
    return jsonify(outcome.ticket)


@bp.post("/counters/<id:counter_id>/start")
@require("counter", "admin")
def start(counter_id: int) -> Any:
    return _counter_action(counter_id, "start")


@bp.post("/counters/<id:counter_id>/recall")
@require("counter", "admin")
def recall(counter_id: int) -> Any:
    return _counter_action(counter_id, "recall")


@bp.post("/counters/<id:counter_id>/finish")
@require("counter", "admin")
def finish(counter_id: int) -> Any:
    return _counter_action(counter_id, "finish")


@bp.post("/counters/<id:counter_id>/no-show")
@require("counter", "admin")
def no_show(counter_id: int) -> Any:
    return _counter_action(counter_id, "no_show")


@bp.post("/counters/<id:counter_id>/transfer")
@require("counter", "admin")
def transfer(counter_id: int) -> Any:
    body = json_body()
    service_id = _int_field(body, "service_id", required="counter_id" not in body)
    to_counter = _int_field(body, "counter_id", required=False)
    outcome = antre().change(
        antre().queue.transfer, counter_id, service_id=service_id, to_counter_id=to_counter, actor=g.actor,
        expect_current=_expect_current(body),
    )
    return jsonify(outcome.ticket)


@bp.post("/counters/<id:counter_id>/pause")
@require("counter", "admin")
def pause(counter_id: int) -> Any:
    body = json_body()
    view = antre().run(antre().queue.set_counter_status, counter_id, True, body.get("reason"), g.actor)
    antre().publish(Outcome(None, counter_id=counter_id))
    return jsonify(view)


@bp.post("/counters/<id:counter_id>/resume")
@require("counter", "admin")
def resume(counter_id: int) -> Any:
    view = antre().run(antre().queue.set_counter_status, counter_id, False, "", g.actor)
    antre().publish(Outcome(None, counter_id=counter_id))
    return jsonify(view)


# -------------------------------------------------------------------- events


@bp.get("/events")
@require("feed", "admin")
def events() -> Any:
    after = _query_int("after", 0, 0, 2**62)
    limit = _query_int("limit", 100, 1, MAX_EVENTS)
    return jsonify(antre().run(antre().queue.events, after, limit))


# ------------------------------------------------------------------ bookings


@bp.post("/bookings")
@require("feed", "admin")
def create_booking() -> Any:
    body = json_body()
    service_id = _int_field(body, "service_id")
    booking = antre().run(
        antre().queue.create_booking, body.get("code"), service_id, body.get("slot_start"),
        body.get("name", ""), g.actor,
    )
    return _created(booking)


@bp.get("/bookings/<code>")
@require("feed", "admin", "kiosk")
def get_booking(code: str) -> Any:
    return jsonify(antre().run(antre().queue.booking, code[:64]))


@bp.post("/bookings/<code>/check-in")
@require("kiosk", "admin")
def check_in(code: str) -> Any:
    body = json_body(required=False)
    lang = body.get("lang", "id")
    if lang not in ("id", "en"):
        raise Invalid("invalid_lang", "lang harus 'id' atau 'en'. (lang must be 'id' or 'en'.)")
    outcome = antre().change(antre().queue.check_in, code[:64], g.actor, lang)
    return _created(outcome.ticket)


# ------------------------------------------------------------------ webhooks


def _valid_webhook_url(url: Any) -> str:
    if not isinstance(url, str) or len(url) > 2000:
        raise Invalid("invalid_url", "url harus alamat http(s). (url must be an http(s) URL.)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("invalid_url", "url harus alamat http(s). (url must be an http(s) URL.)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Invalid("invalid_url", "Port pada url tidak sah. (Invalid port in url.)") from None
    return url


@bp.post("/webhooks")
@require("admin")
def create_webhook() -> Any:
    body = json_body()
    url = _valid_webhook_url(body.get("url"))
    secret = body.get("secret")
    if not isinstance(secret, str) or not (16 <= len(secret) <= 256):
        raise Invalid("invalid_secret", "secret harus 16–256 karakter. (secret must be 16–256 characters.)")
    store = antre().store
    actor = g.actor.label  # read here: flask.g does not reach the worker thread below

    def create() -> dict[str, Any]:
        with store.write() as db:
            last = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            cur = db.conn.execute(
                "INSERT INTO webhooks (url, secret, created_at, delivered_through) VALUES (?, ?, ?, ?)",
                (url, secret, datetime.now(UTC).isoformat(), last),
            )
            store.append_audit(db, actor=actor, action="webhook.created",
                               details={"url": url, "id": cur.lastrowid})
            return {"id": int(cur.lastrowid or 0), "url": url}

    return _created(antre().run(create))


@bp.get("/webhooks")
@require("admin")
def list_webhooks() -> Any:
    store = antre().store

    def read() -> list[dict[str, Any]]:
        from antre.webhooks import webhook_states

        with store.read() as db:
            return webhook_states(db)

    return jsonify(antre().run(read))
