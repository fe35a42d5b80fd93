"""Live position updates for the tracking pages.

A ticket's own changes reach its page as ``ticket:event`` / ``ticket:called``
(:mod:`web.push`).  But a waiting visitor's position also moves when *other*
tickets are called, transferred or cancelled.  After such changes (coalesced
over :data:`COALESCE_SECONDS`, computed once per service) this sends
``ticket:position`` ``{"ticket_id", "position", "eta_minutes"}`` to the room
``ticket:<id>`` of every waiting ticket whose page is connected to this process.

With several server processes a page connected to another process gets its
position from its own poll of ``/t/<token>/state`` (every 30 s) instead.
"""

from __future__ import annotations

import logging
import threading

from antre.blocking import call_blocking, sleep, spawn
from antre.queue import Outcome
from web.context import Antre
from web.push import socketio

log = logging.getLogger("antre.tracking")

COALESCE_SECONDS = 0.5


def _connected_ticket_rooms() -> set[str]:
    """``ticket:<id>`` rooms with at least one page connected to this process."""
    try:
        rooms = socketio.server.manager.rooms.get("/", {})
    except AttributeError:  # Socket.IO not initialised (no server)
        return set()
    return {name for name, members in list(rooms.items())
            if isinstance(name, str) and name.startswith("ticket:") and members}


class PositionPush:
    def __init__(self, app_antre: Antre) -> None:
        self.antre = app_antre
        self._pending: set[int] = set()
        self._scheduled = False
        self._lock = threading.Lock()

    def on_outcome(self, outcome: Outcome) -> None:
        if not outcome.services:
            return
        with self._lock:
            self._pending |= outcome.services
            if self._scheduled:
                return
            self._scheduled = True
        spawn(self._flush_later, name="antre-track-positions")

    def _flush_later(self) -> None:
        sleep(COALESCE_SECONDS)
        with self._lock:
            services, self._pending = self._pending, set()
            self._scheduled = False
        try:
            self.push(services)
        except Exception:  # noqa: BLE001 - the page's own poll repairs a missed update
            log.exception("tracking positions failed")

    def push(self, services: set[int]) -> int:
        """Send fresh positions of the waiting tickets of ``services``; returns how many were sent."""
        rooms = _connected_ticket_rooms()
        if not rooms:
            return 0
        sent = 0
        for entry in call_blocking(self.antre.queue.waiting_positions, services):
            room = f"ticket:{entry['ticket_id']}"
            if room in rooms:
                socketio.emit("ticket:position", entry, to=room)
                sent += 1
        return sent
