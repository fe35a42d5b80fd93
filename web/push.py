"""Socket.IO: a full snapshot on connect, then small events after each commit.

Rooms:
  ``displays`` every display; ``zone:NAME`` displays of one zone (a display
  that subscribed to a zone leaves ``displays:all``); ``counter:ID`` counter
  screens and the small display above a counter; ``ticket:ID`` a visitor's
  tracking page; ``staff`` counter and admin screens; ``kiosks``.

A call is sent first and alone; the ``queue:changed`` it causes is coalesced
(about 100 ms) so that a burst of changes costs one message per service, and
never delays the call's own fan-out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import SocketIO, emit, join_room, leave_room

from antre import auth as core_auth
from antre.blocking import call_blocking, gevent_active, sleep, spawn
from antre.queue import Outcome
from antre.rules import NotFound
from web.context import Antre

log = logging.getLogger("antre.push")

socketio = SocketIO()
COALESCE_SECONDS = 0.1
CALL_EVENTS = ("ticket.called", "ticket.recalled")


class Publisher:
    """Turns committed outcomes into Socket.IO events."""

    def __init__(self, app_antre: Antre, announce: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
                 | None = None) -> None:
        self.antre = app_antre
        self.announce = announce
        self._pending: set[int] = set()
        self._flush_scheduled = False
        self._lock = threading.Lock()
        self._config_pending: set[str] = set()
        self._config_scheduled = False
        #: in-process hooks called with the set of changed areas after a configuration change
        self.config_listeners: list[Callable[[set[str]], None]] = []

    def on_outcome(self, outcome: Outcome) -> None:
        queue = self.antre.queue
        for event in outcome.events:
            ticket = event["ticket"]
            ctx = None
            if event["type"] in CALL_EVENTS:
                ctx = call_blocking(queue.lookup, ticket["counter_id"], ticket["service_id"])
                counter = ctx["counter"]
                payload = {
                    "ticket": ticket,
                    "counter": {"id": counter["id"], "name": counter["name"]},
                    "service": {k: ctx["service"][k] for k in ("id", "code", "name")},
                    "recall": event["type"] == "ticket.recalled",
                    "announcement": self.announce(ticket, ctx) if self.announce else {"text": "", "audio_url": None},
                    "event_id": event["id"],
                }
                rooms = ["displays:all", f"counter:{counter['id']}", f"ticket:{ticket['id']}", "staff"]
                if counter["zone"]:
                    rooms.append(f"zone:{counter['zone']}")
                socketio.emit("ticket:called", payload, to=rooms)
            # Every change, small, for the screens that follow tickets or counters.
            rooms = [f"ticket:{ticket['id']}", "staff"]
            if ticket.get("counter_id") is not None:
                rooms.append(f"counter:{ticket['counter_id']}")
            if event.get("counter_id") is not None:
                rooms.append(f"counter:{event['counter_id']}")
            socketio.emit("ticket:event", event, to=sorted(set(rooms)))
        if outcome.counter_id is not None or any(e["type"] != "ticket.issued" for e in outcome.events):
            self._counter_changed(outcome)
        if outcome.services:
            self._queue_changed(outcome.services)

    def _counter_changed(self, outcome: Outcome) -> None:
        counter_ids = {e["ticket"].get("counter_id") for e in outcome.events} | {outcome.counter_id}
        counter_ids |= {e.get("counter_id") for e in outcome.events}
        called = {e["ticket"].get("counter_id") for e in outcome.events if e["type"] in CALL_EVENTS}
        for counter_id in sorted(c for c in counter_ids if c is not None):
            try:
                counter = call_blocking(self.antre.queue.counter, counter_id)
            except NotFound:
                continue
            current = counter["current_ticket"]
            payload = {
                "counter": {
                    "id": counter["id"], "name": counter["name"], "zone": counter["zone"],
                    "status": counter["status"],
                    "current_number": current["number"] if current else None,
                    "current_status": current["status"] if current else None,
                }
            }
            rooms = [f"counter:{counter_id}", "staff"]
            if counter_id not in called:
                # After a call the displays already know (``ticket:called`` names the counter and its
                # number): sending this as well would double every display's messages and delay the
                # call's fan-out to the last display by as much.
                rooms.append("displays:all")
                if counter["zone"]:
                    rooms.append(f"zone:{counter['zone']}")
            socketio.emit("counter:changed", payload, to=rooms)

    def _queue_changed(self, services: set[int]) -> None:
        with self._lock:
            self._pending |= services
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        spawn(self._flush_later, name="antre-queue-changed")

    def _flush_later(self) -> None:
        sleep(COALESCE_SECONDS)
        if gevent_active():
            # With many screens a call's own fan-out outlasts the coalescing delay (about 100 ms
            # for 1,000 displays): wait until every socket has been handed the call, so that this
            # never slows the call's last deliveries.
            import gevent

            gevent.idle()
        with self._lock:
            services, self._pending = self._pending, set()
            self._flush_scheduled = False
        try:
            changes = call_blocking(self.antre.queue.queue_changes, services)
        except Exception:  # noqa: BLE001 - a snapshot on reconnect repairs a missed change
            log.exception("queue:changed failed")
            return
        for change in changes:
            socketio.emit("queue:changed", change, to=["displays:all", "displays", "kiosks", "staff"])

    def config_changed(self, what: set[str] | frozenset[str]) -> None:
        """After an admin change (tenants, services, counters, settings, ...): tell every
        client ``config:changed`` {what, settings}, then send fresh ``queue:state``
        snapshots, so kiosks and displays redraw without a restart.  Coalesced like
        ``queue:changed``: a burst of edits costs one refresh."""
        with self._lock:
            self._config_pending |= set(what)
            if self._config_scheduled:
                return
            self._config_scheduled = True
        spawn(self._flush_config, name="antre-config-changed")

    def _flush_config(self) -> None:
        sleep(COALESCE_SECONDS)
        with self._lock:
            what, self._config_pending = self._config_pending, set()
            self._config_scheduled = False
        for listener in list(self.config_listeners):
            try:
                listener(what)
            except Exception:  # noqa: BLE001 - one broken hook must not stop the refresh
                log.exception("config listener failed")
        try:
            from antre.config import public_settings

            queue = self.antre.queue
            settings = call_blocking(public_settings, self.antre.store)
            socketio.emit("config:changed", {"what": sorted(what), "settings": settings})
            socketio.emit("queue:state", call_blocking(queue.display_state, None), to=["displays:all", "staff"])
            for zone in call_blocking(queue.zones):
                socketio.emit("queue:state", call_blocking(queue.display_state, zone), to=f"zone:{zone}")
            socketio.emit("queue:state", {"services": call_blocking(queue.services),
                                          "tenants": call_blocking(queue.tenants)}, to="kiosks")
        except Exception:  # noqa: BLE001 - clients still re-fetch on their next reconnect
            log.exception("config:changed failed")


def drop_token(token_id: int) -> None:
    """A token was revoked: ``device:revoked`` to its sockets, then disconnect them.

    Sockets of this process are disconnected; with several processes the
    others' sockets get the event (a room through the message queue), and
    their reconnection is refused since the token no longer verifies.
    """
    socketio.emit("device:revoked", {"token_id": token_id}, to=f"token:{token_id}")
    for sid, who in list(_clients.items()):
        if who.get("token_id") == token_id:
            try:
                socketio.server.disconnect(sid, namespace="/")
            except Exception:  # noqa: BLE001 - already gone
                log.debug("disconnect of %s failed", sid, exc_info=True)


def _principal_from_auth(app_antre: Antre, auth: Any) -> dict[str, Any] | None:
    """Who is connecting: a device token, a ticket's tracking token, or a session."""
    store = app_antre.store
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        info = call_blocking(core_auth.verify_token, store, auth["token"])
        return None if info is None else {"kind": "token", "role": info.role, "name": info.name,
                                          "token_id": info.id}
    if isinstance(auth, dict) and isinstance(auth.get("track"), str):
        try:
            ticket = call_blocking(app_antre.queue.ticket_by_token, auth["track"])
        except NotFound:
            return None
        return {"kind": "track", "role": "track", "ticket_id": ticket["id"], "name": f"track:{ticket['id']}"}
    if session.get("user_id"):
        user = call_blocking(core_auth.session_user, store, int(session["user_id"]), int(session.get("epoch", 0)))
        if user is not None:
            return {"kind": "user", "role": user["role"], "name": user["username"], "tenant_id": user["tenant_id"]}
    if session.get("device_token_id"):
        info = call_blocking(core_auth.token_by_id, store, int(session["device_token_id"]))
        if info is not None:
            return {"kind": "device", "role": info.role, "name": info.name, "token_id": info.id}
    return None


_clients: dict[str, dict[str, Any]] = {}


def init_push(app_antre: Antre) -> None:
    """Register the Socket.IO handlers (once per process)."""
    if socketio.server is not None and socketio.server.eio.async_mode == "gevent":
        from web.push_transport import install

        install(socketio.server.eio)

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> Any:
        who = _principal_from_auth(app_antre, auth)
        if who is None:
            raise ConnectionRefusedError("unauthorized")
        sid = request.sid  # type: ignore[attr-defined]
        zone = auth.get("zone") if isinstance(auth, dict) and isinstance(auth.get("zone"), str) else None
        who["zone"] = zone or None
        _clients[sid] = who
        role = who["role"]
        if who.get("token_id") is not None:
            join_room(f"token:{who['token_id']}")
        if who["kind"] == "track":
            join_room(f"ticket:{who['ticket_id']}")
            emit("queue:state", _track_state(app_antre, who["ticket_id"]))
            return None
        if role == "display":
            join_room(f"zone:{zone}" if zone else "displays:all")
            join_room("displays")
            emit("queue:state", call_blocking(app_antre.queue.display_state, zone or None))
        elif role == "kiosk":
            join_room("kiosks")
            emit("queue:state", {"services": call_blocking(app_antre.queue.services),
                                 "tenants": call_blocking(app_antre.queue.tenants)})
        else:  # counter, supervisor, admin, feed
            join_room("staff")
            emit("queue:state", call_blocking(app_antre.queue.display_state, None))
        return None

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        _clients.pop(request.sid, None)  # type: ignore[attr-defined]

    @socketio.on("subscribe")
    def on_subscribe(data: Any) -> Any:
        """``{"zone": NAME}``: only that zone's calls; ``{"counter_id": ID}``: one counter."""
        sid = request.sid  # type: ignore[attr-defined]
        who = _clients.get(sid)
        if who is None or who["kind"] == "track" or not isinstance(data, dict):
            return {"ok": False, "error": "invalid_subscription"}
        if "zone" in data:
            zone = data["zone"]
            if zone is not None and (not isinstance(zone, str) or len(zone) > 64):
                return {"ok": False, "error": "invalid_zone"}
            old = who.get("zone")
            leave_room(f"zone:{old}" if old else "displays:all")
            who["zone"] = zone or None
            join_room(f"zone:{zone}" if zone else "displays:all")
            emit("queue:state", call_blocking(app_antre.queue.display_state, zone or None))
            return {"ok": True, "zone": zone or None}
        if "counter_id" in data:
            counter_id = data["counter_id"]
            if not isinstance(counter_id, int) or isinstance(counter_id, bool):
                return {"ok": False, "error": "invalid_counter_id"}
            try:
                counter = call_blocking(app_antre.queue.counter, counter_id)
            except NotFound:
                return {"ok": False, "error": "counter_not_found"}
            join_room(f"counter:{counter_id}")
            return {"ok": True, "counter": counter}
        return {"ok": False, "error": "invalid_subscription"}


def _track_state(app_antre: Antre, ticket_id: int) -> dict[str, Any]:
    ticket = call_blocking(app_antre.queue.ticket, ticket_id)
    ctx = call_blocking(app_antre.queue.lookup, ticket["counter_id"], ticket["service_id"])
    return {"ticket": ticket, **ctx}
