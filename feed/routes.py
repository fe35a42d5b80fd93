"""REST routes of the MPP Digital feed beyond the core v1 ones in :mod:`api.routes`:
webhook administration, booking cancellation and the feed's settings.

Each route is described in ``/openapi.json`` right next to it, exactly as it
answers (schemathesis checks them against each other).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from antre import webhooks
from api.openapi import SCHEMAS, add_operation, path_param
from feed import settings as feed_settings
from web.auth import require
from web.context import antre
from web.errors import json_body

bp = Blueprint("feed", __name__, url_prefix="/api/v1")


def _wake_delivery() -> None:
    service = antre().extras.get("webhooks")
    if service is not None:
        service.wake()


# ------------------------------------------------------------------ webhooks


# One rule for both methods: with two rules, an id out of range would match
# the other rule's method and answer 405 instead of 404.
@bp.route("/webhooks/<id:webhook_id>", methods=["GET", "DELETE"])
@require("admin")
def webhook(webhook_id: int) -> Any:
    if request.method == "DELETE":
        return jsonify(antre().run(webhooks.delete_webhook, antre().store, webhook_id, g.actor.label))
    return jsonify(antre().run(webhooks.get_webhook, antre().store, webhook_id))


@bp.post("/webhooks/<id:webhook_id>/pause")
@require("admin")
def pause_webhook(webhook_id: int) -> Any:
    return jsonify(antre().run(webhooks.set_active, antre().store, webhook_id, False, g.actor.label))


@bp.post("/webhooks/<id:webhook_id>/resume")
@require("admin")
def resume_webhook(webhook_id: int) -> Any:
    state = antre().run(webhooks.set_active, antre().store, webhook_id, True, g.actor.label)
    _wake_delivery()
    return jsonify(state)


# ------------------------------------------------------------------ bookings


@bp.post("/bookings/<code>/cancel")
@require("feed", "admin")
def cancel_booking(code: str) -> Any:
    return jsonify(antre().run(antre().queue.cancel_booking, code[:64], g.actor))


# ------------------------------------------------------------------ settings


@bp.get("/feed/settings")
@require("admin")
def get_settings() -> Any:
    return jsonify(antre().run(feed_settings.read, antre().queue, antre().store))


@bp.put("/feed/settings")
@require("admin")
def put_settings() -> Any:
    body = json_body()
    result = antre().run(feed_settings.update, antre().queue, antre().store, body, g.actor.label)
    _wake_delivery()
    return jsonify(result)


# ------------------------------------------------------------------- OpenAPI

NULLABLE_DATETIME_TEXT = {"type": ["string", "null"], "description": "ISO 8601 (UTC)"}
SCHEMAS["WebhookState"] = {
    "type": "object",
    "required": ["id", "url", "active", "delivered_through", "backlog", "last_error", "last_success_at"],
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string"},
        "active": {"type": "boolean", "description": "false while paused by an admin"},
        "state": {"enum": ["ok", "delivering", "retrying", "paused"]},
        "delivered_through": {"type": "integer", "description": "Id of the last event the endpoint acknowledged."},
        "backlog": {"type": "integer", "minimum": 0, "description": "Events waiting for this endpoint."},
        "delivered_total": {"type": "integer", "minimum": 0},
        "attempts": {"type": "integer", "minimum": 0, "description": "Failed attempts in a row."},
        "next_attempt_at": NULLABLE_DATETIME_TEXT,
        "last_attempt_at": NULLABLE_DATETIME_TEXT,
        "last_error": {"type": ["string", "null"]},
        "last_error_at": NULLABLE_DATETIME_TEXT,
        "last_success_at": NULLABLE_DATETIME_TEXT,
        "created_at": {"type": "string"},
    },
}
SCHEMAS["FeedSettings"] = feed_settings.schema()

_WEBHOOK_ID = [path_param("id")]
add_operation("/api/v1/webhooks/{id}", "get", summary="A webhook and its delivery state", roles="admin",
              ok_schema={"$ref": "#/components/schemas/WebhookState"}, params=_WEBHOOK_ID,
              description="404 `webhook_not_found`.")
add_operation("/api/v1/webhooks/{id}", "delete", summary="Remove a webhook (its backlog is dropped)",
              roles="admin", params=_WEBHOOK_ID, description="404 `webhook_not_found`.",
              ok_schema={"type": "object", "required": ["id", "url", "deleted"], "properties": {
                  "id": {"type": "integer"}, "url": {"type": "string"}, "deleted": {"const": True}}})
add_operation("/api/v1/webhooks/{id}/pause", "post", summary="Pause deliveries to a webhook",
              roles="admin", params=_WEBHOOK_ID, ok_schema={"$ref": "#/components/schemas/WebhookState"},
              description="Events keep queueing in its backlog; nothing is lost.")
add_operation("/api/v1/webhooks/{id}/resume", "post", summary="Resume a webhook, or retry a failing one now",
              roles="admin", params=_WEBHOOK_ID, ok_schema={"$ref": "#/components/schemas/WebhookState"})
add_operation("/api/v1/bookings/{code}/cancel", "post", summary="Cancel a booking not yet checked in",
              roles="feed, admin", ok_schema={"$ref": "#/components/schemas/Booking"}, errors=(409,),
              params=[path_param("code", {"type": "string"})],
              description="Frees its place in the online quota. Cancelling twice is harmless. "
                          "404 `booking_not_found`; 409 `booking_used` once checked in.")
add_operation("/api/v1/feed/settings", "get", summary="Booking and webhook delivery settings", roles="admin",
              ok_schema={"$ref": "#/components/schemas/FeedSettings"})
add_operation("/api/v1/feed/settings", "put", summary="Change booking and webhook delivery settings",
              roles="admin", ok_schema={"$ref": "#/components/schemas/FeedSettings"},
              body={**feed_settings.schema(), "additionalProperties": False},
              description="A partial object: only the keys given change. "
                          "400 `unknown_setting` or `invalid_setting`.")
