"""``GET /openapi.json``: the exact OpenAPI 3.1 description of the API.

The document is built from small pieces so that each operation lists every
status it can answer; a schemathesis run in the tests checks the server
against it (no 5xx, no response that differs from it).  Other modules add
their operations with :func:`add_operation`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, jsonify

import antre

bp = Blueprint("openapi", __name__)

NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STR = {"type": ["string", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "Ticket": {
        "type": "object",
        "required": ["id", "number", "service_id", "priority", "status", "issued_at", "called_at",
                     "counter_id", "position", "eta_minutes", "track_url"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "pattern": "^[A-Z]{1,3}[0-9]{3,}$", "examples": ["A012"]},
            "service_id": {"type": "integer"},
            "priority": {"type": "boolean"},
            "status": {"enum": ["waiting", "called", "serving", "served", "no_show", "cancelled"]},
            "issued_at": DATETIME,
            "called_at": NULLABLE_DATETIME,
            "counter_id": NULLABLE_INT,
            "position": {"type": ["integer", "null"], "minimum": 0,
                         "description": "People ahead in the queue (0 = next); null unless waiting."},
            "eta_minutes": {"type": ["integer", "null"], "minimum": 0},
            "track_url": {"type": "string", "format": "uri"},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "type", "occurred_at", "ticket"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"enum": ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
                              "ticket.served", "ticket.no_show", "ticket.transferred", "ticket.cancelled"],
                     "description": "ticket.started (the visitor arrived at the counter) is an addition to v1."},
            "occurred_at": DATETIME,
            "ticket": {"$ref": "#/components/schemas/Ticket"},
        },
    },
    "Service": {
        "type": "object",
        "required": ["id", "code", "name", "tenant", "open", "waiting", "eta_minutes", "quota_left"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "name_en": {"type": "string"},
            "icon": {"type": "string"},
            "tenant": {"type": "object", "required": ["id", "name"],
                       "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "open": {"type": "boolean"},
            "opens_at": NULLABLE_DATETIME,
            "waiting": {"type": "integer", "minimum": 0},
            "eta_minutes": {"type": "integer", "minimum": 0},
            "quota_left": {"type": ["integer", "null"], "minimum": 0},
        },
    },
    "Tenant": {
        "type": "object",
        "required": ["id", "code", "name", "name_en", "icon"],
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                       "name_en": {"type": "string"}, "icon": {"type": "string"}},
    },
    "Counter": {
        "type": "object",
        "required": ["id", "name", "service_ids", "current_ticket"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "zone": {"type": "string"},
            "status": {"enum": ["open", "paused"]},
            "service_ids": {"type": "array", "items": {"type": "integer"}},
            "current_ticket": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
        },
    },
    "WaitingTicket": {
        "type": "object",
        "required": ["id", "number", "service_id", "priority", "issued_at", "position"],
        "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "service_id": {"type": "integer"},
                       "priority": {"type": "boolean"}, "issued_at": DATETIME,
                       "position": {"type": "integer", "minimum": 0}},
    },
    "Status": {
        "type": "object",
        "required": ["generated_at", "services", "counters"],
        "properties": {
            "generated_at": DATETIME,
            "services": {"type": "array", "items": {
                "type": "object",
                "required": ["service_id", "code", "name", "waiting", "serving", "eta_minutes", "open", "quota_left"],
                "properties": {
                    "service_id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                    "waiting": {"type": "integer", "minimum": 0},
                    "serving": {"type": "array", "items": {"type": "string"}},
                    "eta_minutes": {"type": "integer", "minimum": 0}, "open": {"type": "boolean"},
                    "quota_left": {"type": ["integer", "null"], "minimum": 0},
                },
            }},
            "counters": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "name", "current_number"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "zone": {"type": "string"},
                               "status": {"enum": ["open", "paused"]}, "current_number": NULLABLE_STR},
            }},
        },
    },
    "Booking": {
        "type": "object",
        "required": ["code", "service_id", "slot_start", "name", "status", "ticket_id"],
        "properties": {"code": {"type": "string"}, "service_id": {"type": "integer"}, "slot_start": DATETIME,
                       "name": {"type": "string"}, "status": {"enum": ["booked", "checked_in", "cancelled"]},
                       "ticket_id": NULLABLE_INT},
    },
    "Webhook": {
        "type": "object",
        "required": ["id", "url"],
        "properties": {"id": {"type": "integer"}, "url": {"type": "string"}},
    },
    "WebhookState": {
        "type": "object",
        "required": ["id", "url", "active", "delivered_through", "backlog", "last_error", "last_success_at"],
        "properties": {"id": {"type": "integer"}, "url": {"type": "string"}, "active": {"type": "boolean"},
                       "delivered_through": {"type": "integer"}, "backlog": {"type": "integer"},
                       "last_error": NULLABLE_STR, "last_success_at": NULLABLE_STR},
    },
}

PATHS: dict[str, dict[str, Any]] = {}

#: a reason written by staff: at least three visible characters
REASON = {"type": "string", "pattern": "\\S[\\s\\S]*\\S[\\s\\S]*\\S", "maxLength": 200}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_TEXT = {
    400: "Invalid input", 401: "No or invalid credentials", 403: "Role not allowed, or CSRF check failed",
    404: "Not found", 405: "Method not allowed", 409: "Refused by the queue rules", 413: "Body too large",
    415: "Body is not JSON",
}


def add_operation(path: str, method: str, *, summary: str, roles: str, ok: int = 200,
                  ok_schema: dict[str, Any] | None = None, errors: tuple[int, ...] = (),
                  body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
                  description: str = "", security: bool = True, ok_content: dict[str, Any] | None = None,
                  body_required: bool = True) -> None:
    """Describe one operation (every status it can answer)."""
    responses: dict[str, Any] = {}
    if ok_content is not None:
        responses[str(ok)] = {"description": "OK", "content": ok_content}
    else:
        responses[str(ok)] = _json(ok_schema or {"type": "object"})
    codes = set(errors) | ({401, 403} if security else set())
    if body is not None:
        codes |= {400, 413, 415}
    if params:
        codes |= {400} if any(p["in"] == "query" for p in params) else set()
        codes |= {404} if any(p["in"] == "path" for p in params) else set()
    for code in sorted(codes):
        responses[str(code)] = _json(_ref("Error"), ERROR_TEXT.get(code, "Error"))
    op: dict[str, Any] = {
        "summary": summary,
        "description": (description + f"\n\nWho: {roles}.").strip(),
        "responses": responses,
        "operationId": f"{method}_{path}".replace("/", "_").replace("{", "").replace("}", "").replace("-", "_"),
    }
    if not security:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    PATHS.setdefault(path, {})[method] = op


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "integer", "minimum": 1, "maximum": 2**62 - 1}}


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


#: optional on every counter action: refused with 409 ``stale_state`` when the counter holds another ticket
EXPECT_CURRENT = {
    "type": ["integer", "null"], "minimum": 1, "maximum": 2**62 - 1,
    "description": "The ticket id (null: none) the caller believes the counter holds; if it holds another, "
                   "nothing is done and the answer is 409 `stale_state` (a double click never acts twice).",
}


# --- the operations of the core API ------------------------------------------

add_operation("/api/v1/services", "get", summary="Services with live figures", roles="any token",
              ok_schema=_array("Service"))
add_operation("/api/v1/tenants", "get", summary="Tenants (agencies)", roles="any token", ok_schema=_array("Tenant"))
add_operation("/api/v1/status", "get", summary="Live queue status", roles="any token", ok_schema=_ref("Status"))
add_operation(
    "/api/v1/tickets", "post", summary="Issue a ticket", roles="kiosk, admin", ok=201, ok_schema=_ref("Ticket"),
    errors=(404, 409),
    description="404 `service_not_found`; 409 `service_closed` (with `details.opens_at`) or `quota_reached`.",
    body={"type": "object", "required": ["service_id"], "properties": {
        "service_id": {"type": "integer", "minimum": 1, "maximum": 2**62 - 1},
        "priority": {"type": "boolean", "default": False},
        "lang": {"enum": ["id", "en"], "default": "id"},
        "priority_reason": {"type": ["string", "null"], "maxLength": 40,
                            "description": "disabled, elderly, pregnant or child (audited)"}}},
)
add_operation("/api/v1/tickets/{id}", "get", summary="A ticket", roles="any token", ok_schema=_ref("Ticket"),
              params=[path_param("id")])
add_operation("/api/v1/tickets/{id}/cancel", "post", summary="Cancel a waiting or called ticket",
              roles="counter, admin", ok_schema=_ref("Ticket"), errors=(409,), params=[path_param("id")],
              body={"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}})
add_operation("/api/v1/counters", "get", summary="Counters", roles="any token", ok_schema=_array("Counter"))
add_operation("/api/v1/counters/{id}", "get", summary="A counter", roles="any token", ok_schema=_ref("Counter"),
              params=[path_param("id")])
add_operation("/api/v1/counters/{id}/waiting", "get", summary="What a counter may call, in order",
              roles="counter, admin", ok_schema=_array("WaitingTicket"), params=[path_param("id")])
add_operation("/api/v1/counters/{id}/call-next", "post", summary="Call the next ticket",
              roles="counter, admin", ok_schema=_ref("Ticket"), errors=(409,), params=[path_param("id")],
              description="A ticket the counter still holds is first ended as `served`. "
                          "404 `queue_empty` when nothing waits; 409 `counter_paused`, `stale_state`. "
                          "The body is optional.",
              body={"type": "object", "properties": {"expect_current": EXPECT_CURRENT}}, body_required=False)
add_operation("/api/v1/counters/{id}/call", "post", summary="Call a given number out of turn (audited)",
              roles="counter, admin", ok_schema=_ref("Ticket"), errors=(409,), params=[path_param("id")],
              body={"type": "object", "required": ["number", "reason"], "properties": {
                  "number": {"type": "string", "pattern": "\\S", "maxLength": 16}, "reason": REASON,
                  "expect_current": EXPECT_CURRENT}})
for _action, _summary in (("start", "The called visitor arrived: serving"),
                          ("recall", "Announce the current ticket again"),
                          ("finish", "Current ticket served"),
                          ("no-show", "Current ticket did not come")):
    add_operation(f"/api/v1/counters/{{id}}/{_action}", "post", summary=_summary, roles="counter, admin",
                  ok_schema=_ref("Ticket"), errors=(409,), params=[path_param("id")],
                  description="409 `no_current_ticket`, `invalid_state` or `stale_state`. The body is optional.",
                  body={"type": "object", "properties": {"expect_current": EXPECT_CURRENT}}, body_required=False)
add_operation("/api/v1/counters/{id}/transfer", "post", summary="Move the current ticket to another service",
              roles="counter, admin", ok_schema=_ref("Ticket"), errors=(409,), params=[path_param("id")],
              description="The visitor keeps the number and the original queue time. 409 `same_service`.",
              body={"type": "object", "anyOf": [{"required": ["service_id"]}, {"required": ["counter_id"]}],
                    "properties": {
                  "service_id": {"type": "integer", "minimum": 1, "maximum": 2**62 - 1},
                  "counter_id": {"type": "integer", "minimum": 1, "maximum": 2**62 - 1,
                                 "description": "Send to one counter (its service by default)."},
                  "expect_current": EXPECT_CURRENT}})
add_operation("/api/v1/counters/{id}/pause", "post", summary="Pause a counter (break)", roles="counter, admin",
              ok_schema=_ref("Counter"), errors=(409,), params=[path_param("id")],
              body={"type": "object", "required": ["reason"], "properties": {"reason": REASON}})
add_operation("/api/v1/counters/{id}/resume", "post", summary="Resume a paused counter", roles="counter, admin",
              ok_schema=_ref("Counter"), errors=(409,), params=[path_param("id")])
add_operation("/api/v1/events", "get", summary="Queue events in id order", roles="feed, admin",
              ok_schema={"type": "object", "required": ["events", "next"], "properties": {
                  "events": _array("Event"), "next": {"type": "integer"}}},
              params=[query_param("after", {"type": "integer", "minimum": 0, "maximum": 2**62, "default": 0},
                                  "Return events with an id greater than this."),
                      query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})])
add_operation("/api/v1/bookings", "post", summary="Register an online booking", roles="feed, admin", ok=201,
              ok_schema=_ref("Booking"), errors=(404, 409),
              description="Counts against the service's online quota of the slot's day. 404 `service_not_found`; "
                          "409 `booking_exists`, `booking_in_past`, `booking_outside_hours`, `service_closed`, "
                          "`quota_reached`.",
              body={"type": "object", "required": ["code", "service_id", "slot_start"], "properties": {
                  "code": {"type": "string", "pattern": "^[A-Za-z0-9]{4,32}$"},
                  "service_id": {"type": "integer", "minimum": 1, "maximum": 2**62 - 1},
                  "slot_start": {"type": "string", "format": "date-time"},
                  "name": {"type": "string", "maxLength": 120}}})
add_operation("/api/v1/bookings/{code}", "get", summary="A booking", roles="feed, admin, kiosk",
              ok_schema=_ref("Booking"), params=[path_param("code", {"type": "string"})])
add_operation("/api/v1/bookings/{code}/check-in", "post", summary="Check a booking in at the kiosk",
              roles="kiosk, admin", ok=201, ok_schema=_ref("Ticket"), errors=(400, 409, 413, 415),
              params=[path_param("code", {"type": "string"})],
              description="The ticket joins the queue at the slot's start, or at check-in (setting "
                          "`booking_queue_mode`). 404 `booking_not_found`; 409 `booking_used`, `booking_cancelled`, "
                          "`booking_expired`, `booking_too_early` (with `details.check_in_from`), "
                          "`booking_not_today`, `service_closed`.")
add_operation("/api/v1/webhooks", "post", summary="Register a webhook", roles="admin", ok=201,
              ok_schema=_ref("Webhook"),
              body={"type": "object", "required": ["url", "secret"], "properties": {
                  "url": {"type": "string", "format": "uri"},
                  "secret": {"type": "string", "minLength": 16, "maxLength": 256}}})
add_operation("/api/v1/webhooks", "get", summary="Webhooks and their backlog", roles="admin",
              ok_schema=_array("WebhookState"))


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Antre API",
            "version": f"1 ({antre.__version__})",
            "description": "Queue system of a Mal Pelayanan Publik. Errors are "
                           "`{\"error\": {\"code\", \"message\"}}` with a 4xx status.",
        },
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": copy.deepcopy(PATHS),
    }


@bp.get("/openapi.json")
def openapi_json() -> object:
    return jsonify(document())
