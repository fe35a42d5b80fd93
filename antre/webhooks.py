"""Webhook delivery: a durable outbox per endpoint, drained in event-id order.

The outbox is the ``events`` table itself: every state change of a ticket is
written there in the same transaction as the change.  Each registered
endpoint (table ``webhooks``) has a cursor, ``delivered_through``: the last
event id it acknowledged.  Its backlog is every event after that cursor, so a
backlog survives restarts and power cuts by construction, and an endpoint
that was down for a day simply has a long backlog.

Rules (contract "Webhooks"; PITFALLS "Webhooks"):

* Events go out one at a time per endpoint, in id order, as the JSON event
  (the shape of ``GET /api/v1/events``), signed ``X-Antre-Signature:
  sha256=HMAC-SHA256(secret, raw body)`` with ``X-Antre-Event-Id``.
* The cursor moves only after a 2xx reply, and it is stored.  To drain a
  backlog fast, positions are stored every ``flush_every`` events or
  ``flush_seconds`` (one fsync for many events); a crash in between only
  re-sends events that were already acknowledged -- at-least-once delivery
  that the receiver deduplicates by event id, never a lost event.
* A non-2xx reply, a refused connection or a timeout (connect *and* read are
  bounded) is retried with exponential backoff and jitter, from
  ``backoff_min`` up to ``backoff_max``; attempts, the next attempt and the
  last error are stored for the admin to see.
* Of several server processes on one data dir exactly one delivers: the
  holder of the ``webhooks`` lease in the database.  Cursor writes are fenced
  by the lease (the UPDATE only applies while this process holds it), so a
  process that lost the lease can never move a cursor.
* Each endpoint is drained by its own worker thread: a stuck endpoint holds
  up nobody else, and blocking HTTP never runs on the gevent event loop.

This module is plain Python (no Flask).  :class:`WebhookDeliverer` does the
blocking work; :class:`WebhookService` schedules it (greenlets under gevent,
threads otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as HTTPTimeoutError

from antre.blocking import SingleThreadWorker, call_blocking, native_lock, sleep, spawn
from antre.store import Store

log = logging.getLogger("antre.webhooks")

LEASE_NAME = "webhooks"
USER_AGENT = "Antre-Webhook/1"
MAX_ERROR_CHARS = 300
MAX_REPLY_BYTES = 64 * 1024

#: settings (table ``settings``) that tune delivery: key -> (default, low, high)
SETTINGS: dict[str, tuple[float, float, float]] = {
    "webhook_connect_timeout_s": (3.0, 0.1, 60.0),
    "webhook_read_timeout_s": (10.0, 0.1, 120.0),
    "webhook_backoff_min_s": (1.0, 0.05, 3600.0),
    "webhook_backoff_max_s": (300.0, 0.1, 86400.0),
    "webhook_lease_s": (10.0, 1.0, 300.0),
}


# ------------------------------------------------------------------ signing


def signature(secret: str, body: bytes) -> str:
    """The ``X-Antre-Signature`` value of a body: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does (constant-time compare); used by the tests and the guide."""
    return bool(header) and hmac.compare_digest(signature(secret, body), header or "")


def event_body(event_id: int, type_: str, occurred_at: str, payload: str) -> bytes:
    """The raw JSON body of one event (the shape of ``GET /api/v1/events``)."""
    event = {"id": event_id, "type": type_, "occurred_at": occurred_at, "ticket": json.loads(payload)}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ------------------------------------------------------------------ backoff


def backoff_seconds(attempts: int, low: float, high: float, rng: Callable[[], float] = random.random) -> float:
    """Delay before attempt ``attempts + 1``: doubling from ``low``, capped at
    ``high``, with jitter (50–100 % of the step) so that many MPPs coming back
    online together do not retry in lock-step."""
    step = min(high, low * (2 ** max(0, min(attempts - 1, 40))))
    return max(min(low, high), step * (0.5 + 0.5 * rng()))


# ------------------------------------------------------------------- config


@dataclass(frozen=True)
class DeliveryConfig:
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    backoff_min: float = 1.0
    backoff_max: float = 300.0
    lease_seconds: float = 10.0
    batch: int = 500  # events read per query
    flush_every: int = 200  # store the cursor at least every N acknowledged events ...
    flush_seconds: float = 0.25  # ... or this often
    slice_seconds: float = 5.0  # a drain returns after this long, to re-check pause/delete

    @classmethod
    def from_db(cls, store: Store, db: sqlite_utils.Database) -> DeliveryConfig:
        values: dict[str, float] = {}
        for key, (default, low, high) in SETTINGS.items():
            raw = store.get_setting(db, key, default)
            try:
                value = float(raw)
            except (TypeError, ValueError):
                value = default
            if not low <= value <= high:  # also rejects NaN
                value = default
            values[key] = value
        return cls(
            connect_timeout=values["webhook_connect_timeout_s"],
            read_timeout=values["webhook_read_timeout_s"],
            backoff_min=values["webhook_backoff_min_s"],
            backoff_max=max(values["webhook_backoff_min_s"], values["webhook_backoff_max_s"]),
            lease_seconds=values["webhook_lease_s"],
        )


# ---------------------------------------------------------------- endpoints


@dataclass
class Endpoint:
    id: int
    url: str
    secret: str
    delivered_through: int
    active: bool
    attempts: int
    next_attempt_at: str | None

    @classmethod
    def from_row(cls, r: Any) -> Endpoint:
        return cls(r["id"], r["url"], r["secret"], r["delivered_through"], bool(r["active"]), r["attempts"],
                   r["next_attempt_at"])

    def due(self, now: datetime) -> bool:
        return self.next_attempt_at is None or datetime.fromisoformat(self.next_attempt_at) <= now


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def webhook_state(r: Any, last_event_id: int) -> dict[str, Any]:
    """One webhook as the admin API shows it (never its secret)."""
    if not r["active"]:
        state = "paused"
    elif r["attempts"]:
        state = "retrying"
    elif last_event_id > r["delivered_through"]:
        state = "delivering"
    else:
        state = "ok"
    return {
        "id": r["id"], "url": r["url"], "active": bool(r["active"]), "state": state,
        "delivered_through": r["delivered_through"], "backlog": max(0, last_event_id - r["delivered_through"]),
        "delivered_total": r["delivered_total"], "attempts": r["attempts"],
        "next_attempt_at": r["next_attempt_at"], "last_attempt_at": r["last_attempt_at"],
        "last_error": r["last_error"], "last_error_at": r["last_error_at"],
        "last_success_at": r["last_success_at"], "created_at": r["created_at"],
    }


def webhook_states(db: sqlite_utils.Database, webhook_id: int | None = None) -> list[dict[str, Any]]:
    last = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    rows = db.conn.execute(
        "SELECT * FROM webhooks WHERE (? IS NULL OR id = ?) ORDER BY id", (webhook_id, webhook_id)
    ).fetchall()
    return [webhook_state(r, last) for r in rows]


# ---------------------------------------------------------------- delivery


@dataclass
class DrainResult:
    endpoint_id: int
    delivered: int = 0
    error: str | None = None
    reason: str = "empty"  # empty | failed | slice | lease_lost | inactive


class Connection:
    """A keep-alive HTTP(S) connection to one endpoint (urllib3, requests' own engine).

    urllib3 is used directly, without requests' session layer: that layer costs
    about 0.7 ms of CPU per POST here, where a connection pool's ``urlopen``
    costs 0.3 ms, which is what lets a Raspberry Pi drain a backlog at
    hundreds of events a second.  Certificates are verified; a proxy from the
    environment (``https_proxy``, ``no_proxy``...) is honoured.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        proxy = _proxy_for(url)
        self._manager: Any = None
        if proxy is not None:
            self._manager = urllib3.ProxyManager(proxy, num_pools=1, maxsize=1, retries=False)
            self._pool: Any = None
        else:
            self._pool = urllib3.connection_from_url(url, maxsize=1, retries=False)

    def post(self, body: bytes, headers: dict[str, str], timeout: urllib3.Timeout) -> int:
        """POST and return the status; the reply is read (at most 64 KiB) so the connection stays open."""
        if self._manager is not None:
            response = self._manager.urlopen("POST", self.url, body=body, headers=headers, timeout=timeout,
                                             redirect=False, retries=False, preload_content=False)
        else:
            response = self._pool.urlopen("POST", self.target, body=body, headers=headers, timeout=timeout,
                                          redirect=False, retries=False, preload_content=False)
        try:
            if len(response.read(MAX_REPLY_BYTES + 1)) > MAX_REPLY_BYTES:
                response.close()  # an endless reply: do not wait for the rest, drop the connection
        finally:
            response.release_conn()
        return int(response.status)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._manager is not None:
            self._manager.clear()


def _proxy_for(url: str) -> str | None:
    parts = urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class WebhookDeliverer:
    """The blocking half: lease, reading the outbox, POSTing, storing cursors.

    Thread-safe per endpoint: :meth:`drain` of one endpoint must only run in
    one thread at a time (:class:`WebhookService` gives each endpoint its own
    worker thread); different endpoints may drain in parallel.
    """

    def __init__(self, store: Store, *, holder: str | None = None, config: DeliveryConfig | None = None,
                 wall: Callable[[], float] = time.time, rng: Callable[[], float] = random.random) -> None:
        self.store = store
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        self._fixed_config = config
        self.config = config or DeliveryConfig()
        self.wall = wall
        self.rng = rng
        self._lease_until = 0.0  # monotonic time until which this process may deliver
        self._conns: dict[int, Connection] = {}
        self._conns_lock = native_lock()

    # --- lease ---------------------------------------------------------------

    def renew_lease(self) -> bool:
        """Take or renew the delivery lease; True while this process holds it.

        Also reloads the settings, so that a change by the admin applies
        within one renewal.
        """
        if self._fixed_config is None:
            with self.store.read() as db:
                self.config = DeliveryConfig.from_db(self.store, db)
        started = time.monotonic()
        seconds = self.config.lease_seconds
        held = self.store.take_lease(LEASE_NAME, self.holder, seconds, self.wall())
        # Trust the lease for a little less than its length, counted from
        # before the write (the database clock and ours may differ slightly).
        self._lease_until = started + seconds * 0.8 if held else 0.0
        return held

    def holds_lease(self) -> bool:
        return time.monotonic() < self._lease_until

    def release_lease(self) -> None:
        self._lease_until = 0.0
        try:
            self.store.release_lease(LEASE_NAME, self.holder)
        except Exception:  # noqa: BLE001 - at shutdown; the lease simply expires
            log.warning("could not release the webhook lease", exc_info=True)

    # --- reading ---------------------------------------------------------------

    def endpoints(self) -> list[Endpoint]:
        with self.store.read() as db:
            return [Endpoint.from_row(r) for r in db.conn.execute("SELECT * FROM webhooks ORDER BY id")]

    def due_endpoints(self) -> list[int]:
        """Active endpoints with a backlog whose next attempt is due."""
        now = _utc(self.wall())
        with self.store.read() as db:
            last = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            rows = db.conn.execute(
                "SELECT * FROM webhooks WHERE active = 1 AND delivered_through < ? ORDER BY id", (last,)
            ).fetchall()
        return [e.id for e in map(Endpoint.from_row, rows) if e.due(now)]

    def _endpoint(self, endpoint_id: int) -> Endpoint | None:
        with self.store.read() as db:
            r = db.conn.execute("SELECT * FROM webhooks WHERE id = ?", (endpoint_id,)).fetchone()
        return None if r is None else Endpoint.from_row(r)

    def _pending(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT id, type, occurred_at, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        return [(r[0], event_body(r[0], r[1], r[2], r[3])) for r in rows]

    # --- writing (fenced: only while this process holds the lease) ------------

    def _store_progress(self, endpoint_id: int, through: int, count: int) -> bool:
        at = _utc(self.wall()).isoformat()

        def op(db: sqlite_utils.Database) -> bool:
            cur = db.conn.execute(
                "UPDATE webhooks SET delivered_through = ?, delivered_total = delivered_total + ?, attempts = 0, "
                "next_attempt_at = NULL, last_success_at = ?, last_attempt_at = ? "
                "WHERE id = ? AND delivered_through < ? "
                "AND EXISTS (SELECT 1 FROM leases WHERE name = ? AND holder = ?)",
                (through, count, at, at, endpoint_id, through, LEASE_NAME, self.holder),
            )
            return cur.rowcount == 1

        return self.store.run_write(op)

    def _store_failure(self, endpoint_id: int, error: str) -> float:
        now = self.wall()
        config = self.config

        def op(db: sqlite_utils.Database) -> float:
            r = db.conn.execute("SELECT attempts FROM webhooks WHERE id = ?", (endpoint_id,)).fetchone()
            if r is None:
                return 0.0
            attempts = r[0] + 1
            delay = backoff_seconds(attempts, config.backoff_min, config.backoff_max, self.rng)
            db.conn.execute(
                "UPDATE webhooks SET attempts = ?, next_attempt_at = ?, last_error = ?, last_error_at = ?, "
                "last_attempt_at = ? WHERE id = ? "
                "AND EXISTS (SELECT 1 FROM leases WHERE name = ? AND holder = ?)",
                (attempts, (_utc(now) + timedelta(seconds=delay)).isoformat(), error[:MAX_ERROR_CHARS],
                 _utc(now).isoformat(), _utc(now).isoformat(), endpoint_id, LEASE_NAME, self.holder),
            )
            return delay

        return self.store.run_write(op)

    # --- HTTP --------------------------------------------------------------------

    def _connection(self, endpoint: Endpoint) -> Connection:
        with self._conns_lock:
            conn = self._conns.get(endpoint.id)
            if conn is not None and conn.url == endpoint.url:
                return conn
            if conn is not None:
                conn.close()
            conn = self._conns[endpoint.id] = Connection(endpoint.url)
            return conn

    def forget(self, endpoint_id: int) -> None:
        with self._conns_lock:
            conn = self._conns.pop(endpoint_id, None)
        if conn is not None:
            conn.close()

    def post(self, conn: Connection, endpoint: Endpoint, event_id: int, body: bytes) -> str | None:
        """POST one event; None when the receiver answered 2xx, else what went wrong."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Accept": "*/*",
                   "X-Antre-Event-Id": str(event_id), "X-Antre-Signature": signature(endpoint.secret, body),
                   "X-Antre-Webhook-Id": str(endpoint.id)}
        timeout = urllib3.Timeout(connect=self.config.connect_timeout, read=self.config.read_timeout)
        try:
            status = conn.post(body, headers, timeout)
        except NewConnectionError as exc:  # (a subclass of the timeout error: test it first)
            return f"event {event_id}: connection failed ({_short(exc)})"
        except HTTPTimeoutError:
            return f"event {event_id}: no answer within the timeout"
        except ProtocolError as exc:
            return f"event {event_id}: connection failed ({_short(exc)})"
        except HTTPError as exc:
            return f"event {event_id}: {type(exc).__name__} ({_short(exc)})"
        except Exception as exc:  # noqa: BLE001 - a broken receiver must not stop the delivery loop
            return f"event {event_id}: {type(exc).__name__} ({_short(exc)})"
        if 200 <= status < 300:
            return None
        return f"event {event_id}: HTTP {status}"

    # --- draining ----------------------------------------------------------------

    def drain(self, endpoint_id: int) -> DrainResult:
        """Deliver an endpoint's backlog until it is empty, a delivery fails,
        the lease is lost or the time slice is used up."""
        result = DrainResult(endpoint_id)
        endpoint = self._endpoint(endpoint_id)
        if endpoint is None or not endpoint.active:
            result.reason = "inactive"
            return result
        if not endpoint.due(_utc(self.wall())):
            result.reason = "not_due"
            return result
        config = self.config
        conn = self._connection(endpoint)
        position = stored = endpoint.delivered_through
        unstored = 0
        started = last_flush = time.monotonic()

        def flush() -> bool:
            """Store the cursor; False when the lease was lost meanwhile."""
            nonlocal stored, unstored, last_flush
            last_flush = time.monotonic()
            if position == stored:
                return True
            ok = self._store_progress(endpoint_id, position, unstored)
            stored, unstored = position, 0
            return ok

        while True:
            batch = self._pending(position, config.batch)
            if not batch:
                break
            for event_id, body in batch:
                if not self.holds_lease():
                    flush()
                    result.reason = "lease_lost"
                    return result
                error = self.post(conn, endpoint, event_id, body)
                if error is not None:
                    flush()
                    delay = self._store_failure(endpoint_id, error)
                    log.warning("webhook %s: %s; next try in %.1f s", endpoint_id, error, delay)
                    result.error, result.reason = error, "failed"
                    return result
                position = event_id
                unstored += 1
                result.delivered += 1
                if unstored >= config.flush_every or time.monotonic() - last_flush >= config.flush_seconds:
                    if not flush():
                        result.reason = "lease_lost"
                        return result
            if time.monotonic() - started >= config.slice_seconds:
                result.reason = "slice"
                break
            current = self._endpoint(endpoint_id)  # paused, deleted or re-pointed meanwhile?
            if current is None or not current.active or current.url != endpoint.url:
                result.reason = "inactive"
                break
        flush()
        return result

    def close(self) -> None:
        with self._conns_lock:
            conns, self._conns = self._conns, {}
        for conn in conns.values():
            conn.close()


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known", "Connection reset",
                   "Remote end closed connection", "certificate verify failed", "Connection aborted"):
        if marker in text:
            return marker
    return text[:120]


# ---------------------------------------------------------------- scheduling


@dataclass
class WebhookService:
    """Runs delivery in one server process: renews the lease, and drains each
    due endpoint in that endpoint's own worker thread.

    ``wake()`` (called after every committed change) starts a pass at once;
    otherwise a pass runs every ``tick`` seconds, which also picks up events
    written by other processes.
    """

    deliverer: WebhookDeliverer
    tick: float = 0.5
    _running: bool = False
    _inflight: set[int] = field(default_factory=set)
    _workers: dict[int, SingleThreadWorker] = field(default_factory=dict)
    _wake: Any = None
    _last_renewal: float = 0.0
    leader: bool = False

    def start(self) -> None:
        self._wake = threading.Event()  # a gevent Event when gevent patched threading
        self._running = True
        spawn(self._loop, name="antre-webhooks")

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        """Stop delivering and hand the lease on (called at shutdown)."""
        self._running = False
        self.wake()
        if self.leader:
            self.leader = False
            self.deliverer.release_lease()
        for endpoint_id in list(self._workers):
            self._close_worker(endpoint_id)
        self.deliverer.close()

    def _loop(self) -> None:
        while self._running:
            try:
                self.pass_once()
            except Exception:  # noqa: BLE001 - the loop must outlive a bad moment (disk full, locked db)
                log.exception("webhook delivery pass failed")
                sleep(1.0)
            if self._wake is not None:
                self._wake.wait(self.tick)
                self._wake.clear()

    def pass_once(self) -> None:
        now = time.monotonic()
        if now - self._last_renewal >= self.deliverer.config.lease_seconds / 4:
            was = self.leader
            self.leader = call_blocking(self.deliverer.renew_lease)
            self._last_renewal = now
            if self.leader != was:
                log.info("webhook delivery %s in this process", "runs" if self.leader else "stopped")
        if not self.leader:
            return
        for endpoint_id in call_blocking(self.deliverer.due_endpoints):
            if endpoint_id in self._inflight:
                continue
            self._inflight.add(endpoint_id)
            spawn(self._run_endpoint, endpoint_id, name=f"antre-webhook-{endpoint_id}")
        self._forget_removed()

    def _run_endpoint(self, endpoint_id: int) -> None:
        worker = self._workers.get(endpoint_id)
        if worker is None:
            worker = self._workers[endpoint_id] = SingleThreadWorker(f"antre-webhook-{endpoint_id}")
        try:
            result = worker.call(self.deliverer.drain, endpoint_id)
            if result.reason == "slice":
                self.wake()  # more to send: go on at once
        except Exception:  # noqa: BLE001 - retried on the next pass
            log.exception("webhook %s: drain failed", endpoint_id)
        finally:
            self._inflight.discard(endpoint_id)

    def _forget_removed(self) -> None:
        if not self._workers:
            return
        present = {e.id for e in call_blocking(self.deliverer.endpoints)}
        for endpoint_id in [i for i in self._workers if i not in present and i not in self._inflight]:
            self._close_worker(endpoint_id)

    def _close_worker(self, endpoint_id: int) -> None:
        """Close an endpoint's connections in the thread that made them, then the thread.

        Its sockets belong to that thread's event loop, which closing the worker destroys.
        """
        worker = self._workers.pop(endpoint_id)
        try:
            worker.call(self.deliverer.forget, endpoint_id, timeout=5)
        except Exception:  # noqa: BLE001 - a stuck close must not stop the others
            log.warning("webhook %s: connections not closed cleanly", endpoint_id)
        worker.close()


# ------------------------------------------------------------ admin actions


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _require(db: sqlite_utils.Database, webhook_id: int) -> Any:
    from antre.rules import NotFound

    row = db.conn.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
    if row is None:
        raise NotFound("webhook_not_found", f"Webhook {webhook_id} tidak ditemukan. (Webhook not found.)")
    return row


def get_webhook(store: Store, webhook_id: int) -> dict[str, Any]:
    with store.read() as db:
        _require(db, webhook_id)
        return webhook_states(db, webhook_id)[0]


def set_active(store: Store, webhook_id: int, active: bool, actor: str) -> dict[str, Any]:
    """Pause an endpoint (its backlog keeps growing, nothing is lost), or
    resume it; resuming also retries a failing endpoint at once."""

    def op(db: sqlite_utils.Database) -> dict[str, Any]:
        _require(db, webhook_id)
        if active:
            db.conn.execute("UPDATE webhooks SET active = 1, next_attempt_at = NULL WHERE id = ?", (webhook_id,))
        else:
            db.conn.execute("UPDATE webhooks SET active = 0 WHERE id = ?", (webhook_id,))
        store.append_audit(db, actor=actor, action="webhook.resumed" if active else "webhook.paused",
                           details={"id": webhook_id}, at=_now_iso())
        return webhook_states(db, webhook_id)[0]

    return store.run_write(op)


def delete_webhook(store: Store, webhook_id: int, actor: str) -> dict[str, Any]:
    def op(db: sqlite_utils.Database) -> dict[str, Any]:
        row = _require(db, webhook_id)
        state = webhook_states(db, webhook_id)[0]
        db.conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
        store.append_audit(db, actor=actor, action="webhook.deleted",
                           details={"id": webhook_id, "url": row["url"], "backlog": state["backlog"]},
                           at=_now_iso())
        return {"id": webhook_id, "url": row["url"], "deleted": True}

    return store.run_write(op)
