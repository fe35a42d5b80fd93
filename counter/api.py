"""JSON routes of the counter part (REST v1 additions, described in ``/openapi.json``).

* ``GET /api/v1/counters/{id}/desk``: who holds the counter and today's figures.
* ``GET /api/v1/counter-sessions``: every counter someone holds.
* ``POST /api/v1/counters/{id}/take`` / ``release``: hold or free a counter.

A staff session needs ``X-CSRF-Token`` on the POSTs (see :mod:`web.auth`).
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from antre import staff
from antre.queue import Outcome
from api.openapi import SCHEMAS, _ref, add_operation, path_param
from counter.views import bp
from web.auth import require
from web.context import antre

PERSON = {
    "type": "object", "required": ["id", "username", "display_name"],
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"}},
}
SCHEMAS["CounterHold"] = {
    "type": "object",
    "required": ["counter_id", "counter_name", "user", "taken_at"],
    "properties": {
        "counter_id": {"type": "integer"}, "counter_name": {"type": "string"},
        "user": PERSON, "taken_at": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS["CounterDesk"] = {
    "type": "object",
    "required": ["counter_id", "name", "status", "pause_reason", "day", "holder", "taken_at", "served", "no_show",
                 "service_mean_s", "generated_at"],
    "properties": {
        "counter_id": {"type": "integer"},
        "name": {"type": "string"},
        "status": {"enum": ["open", "paused"]},
        "pause_reason": {"type": ["string", "null"]},
        "day": {"type": "string", "format": "date"},
        "holder": {"oneOf": [PERSON, {"type": "null"}]},
        "taken_at": {"type": ["string", "null"], "format": "date-time"},
        "served": {"type": "integer", "minimum": 0, "description": "Tickets this counter served today."},
        "no_show": {"type": "integer", "minimum": 0},
        "service_mean_s": {"type": ["number", "null"], "minimum": 0,
                           "description": "Mean service time today (last call to served), seconds."},
        "generated_at": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS["CounterRelease"] = {
    "type": "object", "required": ["counter_id", "released"],
    "properties": {"counter_id": {"type": "integer"},
                   "released": {"oneOf": [_ref("CounterHold"), {"type": "null"}]}},
}

add_operation(
    "/api/v1/counters/{id}/desk", "get", summary="Who holds a counter, and its figures today",
    roles="counter, supervisor, admin", ok_schema=_ref("CounterDesk"), params=[path_param("id")],
    description="403 `forbidden_counter` for a clerk of another agency.",
)
add_operation(
    "/api/v1/counter-sessions", "get", summary="Counters held by staff members",
    roles="counter, supervisor, admin", ok_schema={"type": "array", "items": _ref("CounterHold")},
)
add_operation(
    "/api/v1/counters/{id}/take", "post", summary="Hold a counter (one person per counter)",
    roles="a staff session (counter, supervisor, admin)", ok_schema=_ref("CounterHold"), errors=(409,),
    params=[path_param("id")],
    description="409 `counter_taken` (the message names the holder) or `counter_still_busy` (the person still "
                "has a ticket at another counter); 403 `staff_only` for a token, `forbidden_counter` for a clerk "
                "of another agency. Taking another counter releases the one held before.",
)
add_operation(
    "/api/v1/counters/{id}/release", "post", summary="Release a counter",
    roles="the holder; a supervisor or admin for anyone's", ok_schema=_ref("CounterRelease"),
    params=[path_param("id")],
    description="`released` is the hold that ended (null: the counter was free). "
                "403 `release_forbidden` for a clerk releasing someone else's counter.",
)


@bp.get("/api/v1/counters/<id:counter_id>/desk")
@require("counter", "admin")
def api_desk(counter_id: int) -> Any:
    return jsonify(antre().run(staff.desk, antre().queue, counter_id, g.actor))


@bp.get("/api/v1/counter-sessions")
@require("counter", "admin")
def api_counter_sessions() -> Any:
    return jsonify(antre().run(staff.holds, antre().queue))


@bp.post("/api/v1/counters/<id:counter_id>/take")
@require("counter", "admin")
def api_take(counter_id: int) -> Any:
    hold = antre().run(staff.take_counter, antre().queue, counter_id, g.actor)
    antre().publish(Outcome(None, counter_id=counter_id))
    return jsonify(hold)


@bp.post("/api/v1/counters/<id:counter_id>/release")
@require("counter", "admin")
def api_release(counter_id: int) -> Any:
    hold = antre().run(staff.release_counter, antre().queue, counter_id, g.actor)
    if hold is not None:
        antre().publish(Outcome(None, counter_id=counter_id))
    return jsonify({"counter_id": counter_id, "released": hold})
