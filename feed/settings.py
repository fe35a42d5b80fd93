"""The MPP Digital feed's settings: booking check-in rules and webhook delivery tuning.

Stored in the ``settings`` table; read by :meth:`antre.queue.Queue.booking_rules`
and :class:`antre.webhooks.DeliveryConfig` (which fall back to their defaults
on any bad stored value, so a hand-edited database cannot stop the queue).
"""

from __future__ import annotations

import math
from typing import Any

import sqlite_utils

from antre.queue import BOOKING_DEFAULTS, BOOKING_MINUTES_MAX, BOOKING_QUEUE_MODES, Queue
from antre.rules import Invalid
from antre.store import Store
from antre.webhooks import SETTINGS as WEBHOOK_SETTINGS
from antre.webhooks import DeliveryConfig

KEYS = (*BOOKING_DEFAULTS, *WEBHOOK_SETTINGS)


def schema() -> dict[str, Any]:
    """JSON Schema of the settings object (OpenAPI)."""
    props: dict[str, Any] = {
        "booking_queue_mode": {"enum": list(BOOKING_QUEUE_MODES),
                               "description": "slot: a checked-in booking joins the queue at its slot's start; "
                                              "arrival: at check-in."},
        "booking_early_minutes": {"type": "integer", "minimum": 0, "maximum": BOOKING_MINUTES_MAX,
                                  "description": "How long before its slot a booking may check in."},
        "booking_late_minutes": {"type": "integer", "minimum": 0, "maximum": BOOKING_MINUTES_MAX,
                                 "description": "How long after its slot a booking may still check in."},
    }
    for key, (_default, low, high) in WEBHOOK_SETTINGS.items():
        props[key] = {"type": "number", "minimum": low, "maximum": high}
    props["webhook_backoff_max_s"]["description"] = "A ceiling below webhook_backoff_min_s counts as equal to it."
    return {"type": "object", "properties": props}


def read(queue: Queue, store: Store) -> dict[str, Any]:
    with store.read() as db:
        return _effective(queue, store, db)


def _effective(queue: Queue, store: Store, db: sqlite_utils.Database) -> dict[str, Any]:
    out = queue.booking_rules(db)
    config = DeliveryConfig.from_db(store, db)
    out.update({
        "webhook_connect_timeout_s": config.connect_timeout, "webhook_read_timeout_s": config.read_timeout,
        "webhook_backoff_min_s": config.backoff_min, "webhook_backoff_max_s": config.backoff_max,
        "webhook_lease_s": config.lease_seconds,
    })
    return out


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """Check a partial update; every problem is a 400 naming the key."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in KEYS:
            raise Invalid("unknown_setting", f"Pengaturan tidak dikenal: {key[:40]!r}. (Unknown setting.)")
        if key == "booking_queue_mode":
            if value not in BOOKING_QUEUE_MODES:
                raise Invalid("invalid_setting", "booking_queue_mode harus 'slot' atau 'arrival'. "
                                                 "(booking_queue_mode must be 'slot' or 'arrival'.)")
        elif key in BOOKING_DEFAULTS:
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # JSON has one number type: 30.0 is 30
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= BOOKING_MINUTES_MAX:
                raise Invalid("invalid_setting", f"{key} harus bilangan bulat 0–{BOOKING_MINUTES_MAX}. "
                                                 f"({key} must be an integer 0–{BOOKING_MINUTES_MAX}.)")
        else:
            _default, low, high = WEBHOOK_SETTINGS[key]
            if (not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
                    or not low <= value <= high):
                raise Invalid("invalid_setting", f"{key} harus angka {low:g}–{high:g}. "
                                                 f"({key} must be a number {low:g}–{high:g}.)")
        clean[key] = value
    return clean


def update(queue: Queue, store: Store, changes: dict[str, Any], actor: str) -> dict[str, Any]:
    clean = validate(changes)

    def op(db: sqlite_utils.Database) -> dict[str, Any]:
        for key, value in clean.items():
            store.set_setting(db, key, value)
        if clean:
            store.append_audit(db, actor=actor, action="settings.feed", details=clean)
        return _effective(queue, store, db)

    return store.run_write(op)
