"""Queue operations: issue, call, recall, start, finish, no-show, transfer, cancel.

Each write runs in one ``BEGIN IMMEDIATE`` transaction of :class:`~antre.store.Store`
and writes the ticket, its event (the outbox) and its audit row together.  The
rules themselves live in :mod:`antre.rules`; this module reads rows, asks the
rules, and writes the outcome.  It returns the events it wrote, so that the
caller can publish them -- after the commit, never before.
"""

from __future__ import annotations

import functools
import json
import secrets
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlite_utils

from antre import rules
from antre.clock import Clock, iso
from antre.rules import Forbidden, Invalid, NotFound, RuleError
from antre.store import AuditEntry, EventEntry, Store, insert_returning, run_alone

RECENT_SAMPLES = 20

#: online bookings (settings table): where a checked-in booking joins the queue
#: (``slot``: at its slot's start, keeping the slot's place; ``arrival``: at
#: check-in, like a walk-in) and how early / late it may check in.
BOOKING_QUEUE_MODES = ("slot", "arrival")
BOOKING_DEFAULTS: dict[str, Any] = {"booking_queue_mode": "slot", "booking_early_minutes": 60,
                                    "booking_late_minutes": 30}
BOOKING_MINUTES_MAX = 720


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a device token, a staff member, or Antre itself."""

    name: str
    role: str
    device: str | None = None
    user_id: int | None = None
    tenant_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name}"


SYSTEM = Actor("antre", "system")


class _Unchecked:
    """Sentinel: the caller did not say which ticket it believes the counter holds."""

    def __repr__(self) -> str:
        return "UNCHECKED"


UNCHECKED: Any = _Unchecked()

#: a check every counter action runs inside its own transaction, e.g. "this clerk holds the counter"
CounterGuard = Callable[[sqlite_utils.Database, dict[str, Any], Actor], None]


@dataclass
class Outcome:
    """What a write did: the ticket it is about and the events it committed."""

    ticket: dict[str, Any] | None
    events: list[dict[str, Any]] = field(default_factory=list)
    services: set[int] = field(default_factory=set)
    counter_id: int | None = None


@dataclass
class Row:
    """A ticket row with attribute access (what :mod:`antre.rules` orders)."""

    id: int
    priority: bool
    queue_at: str
    data: dict[str, Any]


def _utc_now_iso(clock: Clock) -> str:
    return clock.now().astimezone(UTC).isoformat()


def _as_row(r: sqlite3.Row) -> Row:
    data = dict(r)
    return Row(data["id"], bool(data["priority"]), data["queue_at"], data)


@functools.lru_cache(maxsize=4096)
def _local_iso(stored: str, tz: tzinfo) -> str:
    """A stored UTC time in the MPP's zone (each change's time is shown 3-4 times)."""
    return iso(datetime.fromisoformat(stored).astimezone(tz))


@functools.lru_cache(maxsize=512)
def _parse_hours(text: str) -> dict[str, list[list[str]]]:
    """A service's opening hours, parsed once per distinct text (read-only: shared)."""
    return json.loads(text)


def new_track_token() -> str:
    """The secret of a ticket's tracking page: the current millisecond in 11
    hex digits, then 96 random bits (16 url-safe characters).

    The time prefix makes each new token sort after the earlier ones, so the
    UNIQUE index on track_token grows at its end: a batch of tickets touches
    one index page instead of one random page per ticket.  The secret is the
    random part; the time of issue is no secret to whoever holds the ticket.
    """
    return f"{time.time_ns() // 1_000_000:011x}{secrets.token_urlsafe(12)}"


class Queue:
    """The queue of one MPP, over one :class:`Store`."""

    def __init__(self, store: Store, clock: Clock | None = None, public_url: str = "http://localhost:5000") -> None:
        self.store = store
        self.clock = clock or Clock()
        self.public_url = public_url.rstrip("/")
        #: run by every counter action after the tenant rule (see :func:`antre.staff.install`)
        self.counter_guards: list[CounterGuard] = []

    # ------------------------------------------------------------------ helpers

    def today(self) -> str:
        return self.clock.today().isoformat()

    def local_iso(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        return _local_iso(stored, self.clock.tz)

    def track_url(self, token: str) -> str:
        return f"{self.public_url}/t/{token}"

    @staticmethod
    def _service(db: sqlite_utils.Database, service_id: Any) -> dict[str, Any]:
        if not isinstance(service_id, int) or isinstance(service_id, bool):
            raise Invalid("invalid_service_id", "service_id harus bilangan bulat. (service_id must be an integer.)")
        row = db.conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
        if row is None:
            raise NotFound("service_not_found", f"Layanan {service_id} tidak ditemukan. (Service not found.)")
        service = dict(row)
        service["hours"] = _parse_hours(service["hours"])
        return service

    @staticmethod
    def _counter(db: sqlite_utils.Database, counter_id: int) -> dict[str, Any]:
        row = db.conn.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone()
        if row is None:
            raise NotFound("counter_not_found", f"Loket {counter_id} tidak ditemukan. (Counter not found.)")
        counter = dict(row)
        counter["service_ids"] = [
            r[0] for r in db.conn.execute(
                "SELECT service_id FROM counter_services WHERE counter_id = ? ORDER BY service_id",
                (counter_id,),
            )
        ]
        return counter

    @staticmethod
    def _ticket_row(db: sqlite_utils.Database, ticket_id: int) -> dict[str, Any]:
        row = db.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("ticket_not_found", f"Tiket {ticket_id} tidak ditemukan. (Ticket not found.)")
        return dict(row)

    def _streak(self, db: sqlite_utils.Database, service_id: int) -> int:
        row = db.conn.execute(
            "SELECT normal_streak FROM rule_state WHERE service_id = ? AND day = ?",
            (service_id, self.today()),
        ).fetchone()
        return row[0] if row else 0

    def _waiting(self, db: sqlite_utils.Database, service_id: int) -> list[Row]:
        return [
            _as_row(r) for r in db.conn.execute(
                "SELECT * FROM tickets WHERE service_id = ? AND status = 'waiting' AND day = ?",
                (service_id, self.today()),
            )
        ]

    def _order(self, db: sqlite_utils.Database, service: dict[str, Any], waiting: list[Row] | None = None) -> list[Row]:
        if waiting is None:
            waiting = self._waiting(db, service["id"])
        rule = rules.PriorityRule.parse(service["priority_rule"])
        return rules.service_order(waiting, rule, self._streak(db, service["id"]))  # type: ignore[return-value]

    def _head(self, db: sqlite_utils.Database, service: dict[str, Any], counter_id: int | None) -> Row | None:
        """The ticket "call next" takes from one service for a counter."""
        def oldest(priority: int) -> Row | None:
            r = db.conn.execute(
                "SELECT * FROM tickets WHERE service_id = ? AND status = 'waiting' AND day = ? AND priority = ? "
                "AND (target_counter_id IS NULL OR target_counter_id = ?) ORDER BY queue_at, id LIMIT 1",
                (service["id"], self.today(), priority, counter_id),
            ).fetchone()
            return None if r is None else _as_row(r)

        normal, prio = oldest(0), oldest(1)
        rule = rules.PriorityRule.parse(service["priority_rule"])
        if rule.picks_priority(self._streak(db, service["id"]), prio is not None, normal is not None):
            return prio
        return normal

    def _open_counters(self, db: sqlite_utils.Database) -> dict[int, int]:
        return {
            r[0]: r[1] for r in db.conn.execute(
                "SELECT cs.service_id, COUNT(*) FROM counter_services cs "
                "JOIN counters c ON c.id = cs.counter_id WHERE c.status = 'open' GROUP BY cs.service_id"
            )
        }

    def _mean_service_seconds(self, db: sqlite_utils.Database) -> dict[int, list[float]]:
        samples: dict[int, list[float]] = defaultdict(list)
        for r in db.conn.execute(
            "SELECT service_id, (julianday(finished_at) - julianday(called_at)) * 86400.0 FROM ("
            " SELECT service_id, called_at, finished_at, ROW_NUMBER() OVER ("
            "  PARTITION BY service_id ORDER BY finished_at DESC) AS rn"
            " FROM tickets WHERE day = ? AND status = 'served' AND called_at IS NOT NULL"
            ") WHERE rn <= ?",
            (self.today(), RECENT_SAMPLES),
        ):
            samples[r[0]].append(float(r[1]))
        return samples

    #: Everything a waiting ticket's position and estimate need, in one statement:
    #: the size of each class (from ``waiting_counts``, kept by triggers), the
    #: tickets of each class behind the ticket (a range of tickets_queue, which
    #: is empty for a ticket just issued), then the service's rule state, open
    #: counters and recent service times.  ``{behind}`` is filled in below.
    _FIGURES = (
        "SELECT"
        " (SELECT n FROM waiting_counts WHERE day = :day AND service_id = :s AND priority = 0),"
        " (SELECT n FROM waiting_counts WHERE day = :day AND service_id = :s AND priority = 1),"
        " (SELECT COUNT(*) FROM tickets WHERE service_id = :s AND status = 'waiting' AND day = :day"
        "   AND priority = 0 AND {behind}),"
        " (SELECT COUNT(*) FROM tickets WHERE service_id = :s AND status = 'waiting' AND day = :day"
        "   AND priority = 1 AND {behind}),"
        " (SELECT normal_streak FROM rule_state WHERE service_id = :s AND day = :day),"
        " (SELECT COUNT(*) FROM counter_services cs JOIN counters c ON c.id = cs.counter_id"
        "   WHERE cs.service_id = :s AND c.status = 'open'),"
        " (SELECT json_group_array(d) FROM (SELECT (julianday(finished_at) - julianday(called_at)) * 86400.0 AS d"
        "   FROM tickets WHERE service_id = :s AND day = :day AND status = 'served' AND called_at IS NOT NULL"
        "   ORDER BY finished_at DESC LIMIT :n))"
    )
    #: ... of the waiting ticket ``:id``, queued at ``:q``
    _WAITING_FIGURES = _FIGURES.format(behind="id != :id AND queue_at >= :q AND (queue_at > :q OR id > :id)")
    #: ... of tickets just issued at ``:q``: those issued before them (``id <
    #: :first``) that queue behind them (a booking's later slot)
    _NEW_TICKET_FIGURES = _FIGURES.format(behind="queue_at > :q AND id < :first")

    def _waiting_figures(self, db: sqlite_utils.Database, t: dict[str, Any],
                         service: dict[str, Any]) -> tuple[int, int]:
        """(position, eta_minutes) of a waiting ticket (``t`` is in the database: the counts include it)."""
        row = db.conn.execute(self._WAITING_FIGURES, {
            "q": t["queue_at"], "id": t["id"], "s": service["id"], "day": t["day"], "n": RECENT_SAMPLES,
        }).fetchone()
        waiting_normal, waiting_prio, normals_behind, prios_behind, streak, open_counters, samples = row
        is_priority = bool(t["priority"])
        others = [(waiting_normal or 0) - (not is_priority), (waiting_prio or 0) - is_priority]
        return _position_and_eta(service, is_priority, others, [normals_behind, prios_behind], streak,
                                 open_counters, samples)

    def serialize(self, db: sqlite_utils.Database, t: dict[str, Any],
                  service: dict[str, Any] | None = None) -> dict[str, Any]:
        """A ticket as the API shows it (contract shape)."""
        position = eta = None
        if t["status"] == rules.WAITING:
            if service is None or service["id"] != t["service_id"]:
                service = self._service(db, t["service_id"])
            position, eta = self._waiting_figures(db, t, service)
        return self._view(t, position, eta)

    def _view(self, t: dict[str, Any], position: int | None, eta: int | None) -> dict[str, Any]:
        """A ticket row and its figures in the contract's shape."""
        return {
            "id": t["id"],
            "number": t["number"],
            "service_id": t["service_id"],
            "priority": bool(t["priority"]),
            "status": t["status"],
            "issued_at": self.local_iso(t["issued_at"]),
            "called_at": self.local_iso(t["called_at"]),
            "counter_id": t["counter_id"],
            "position": position,
            "eta_minutes": eta,
            "track_url": self.track_url(t["track_token"]),
        }

    def _event(self, db: sqlite_utils.Database, action: str, ticket_id: int, now: str, actor: Actor,
               *, counter_id: int | None = None, details: dict[str, Any] | None = None,
               outcome: Outcome) -> dict[str, Any]:
        """Write the event and the audit row of one state change."""
        t = self._ticket_row(db, ticket_id)
        payload = self.serialize(db, t)
        type_ = rules.EVENT_TYPES[action]
        occurred = self.local_iso(now)
        event_id = self.store.append_event(db, type_, occurred or now, payload, counter_id)
        audit_details = {"number": t["number"], "service_id": t["service_id"], **(details or {})}
        self.store.append_audit(
            db, actor=actor.label, action=type_, device=actor.device, ticket_id=ticket_id,
            details=audit_details, at=now,
        )
        event = {"id": event_id, "type": type_, "occurred_at": occurred, "ticket": payload}
        outcome.events.append(event)
        outcome.services.add(t["service_id"])
        outcome.ticket = payload
        return event

    # ------------------------------------------------------------------- reads

    def services(self) -> list[dict[str, Any]]:
        """Every active service with its live figures (GET /api/v1/services)."""
        with self.store.read() as db:
            return self._services(db)

    def _services(self, db: sqlite_utils.Database, only: Iterable[int] | None = None) -> list[dict[str, Any]]:
        now = self.clock.now()
        today = self.today()
        waiting = {
            r[0]: r[1] for r in db.conn.execute(
                "SELECT service_id, SUM(n) FROM waiting_counts WHERE day = ? GROUP BY service_id", (today,),
            )
        }
        walkins = {
            r[0]: r[1] for r in db.conn.execute(
                "SELECT origin_service_id, COUNT(*) FROM tickets WHERE day = ? AND source = 'walkin' "
                "GROUP BY origin_service_id", (today,),
            )
        }
        counters = self._open_counters(db)
        samples = self._mean_service_seconds(db)
        tenants = {r["id"]: dict(r) for r in db.conn.execute("SELECT * FROM tenants")}
        wanted = set(only) if only is not None else None
        out = []
        for r in db.conn.execute("SELECT * FROM services WHERE active = 1 ORDER BY sort, id"):
            s = dict(r)
            if wanted is not None and s["id"] not in wanted:
                continue
            hours = json.loads(s["hours"])
            mean = rules.mean_service_seconds(samples.get(s["id"], []), s["standard_minutes"])
            n_waiting = waiting.get(s["id"], 0)
            quota_left = None
            if s["quota_walkin"] is not None:
                quota_left = max(0, s["quota_walkin"] - walkins.get(s["id"], 0))
            is_open = rules.is_open(hours, now)
            opening = None if is_open else rules.next_opening(hours, now)
            tenant = tenants[s["tenant_id"]]
            out.append({
                "id": s["id"],
                "code": s["code"],
                "name": s["name_id"],
                "name_en": s["name_en"],
                "icon": s["icon"],
                "tenant": {"id": tenant["id"], "name": tenant["name_id"]},
                "open": is_open,
                "opens_at": iso(opening),
                "waiting": n_waiting,
                "eta_minutes": rules.eta_minutes(n_waiting, mean, counters.get(s["id"], 0)),
                "quota_left": quota_left,
            })
        return out

    def tenants(self) -> list[dict[str, Any]]:
        with self.store.read() as db:
            return [
                {"id": r["id"], "code": r["code"], "name": r["name_id"], "name_en": r["name_en"], "icon": r["icon"]}
                for r in db.conn.execute("SELECT * FROM tenants WHERE active = 1 ORDER BY sort, id")
            ]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self.serialize(db, self._ticket_row(db, ticket_id))

    def ticket_by_token(self, token: str) -> dict[str, Any]:
        with self.store.read() as db:
            row = db.conn.execute("SELECT id FROM tickets WHERE track_token = ?", (token,)).fetchone()
            if row is None:
                raise NotFound("ticket_not_found", "Tiket tidak ditemukan. (Ticket not found.)")
            return self.serialize(db, self._ticket_row(db, row[0]))

    def _counter_view(self, db: sqlite_utils.Database, c: dict[str, Any]) -> dict[str, Any]:
        current = None
        if c["current_ticket_id"] is not None:
            current = self.serialize(db, self._ticket_row(db, c["current_ticket_id"]))
        return {
            "id": c["id"],
            "name": c["name"],
            "zone": c["zone"],
            "status": c["status"],
            "service_ids": c["service_ids"],
            "current_ticket": current,
        }

    def counters(self) -> list[dict[str, Any]]:
        with self.store.read() as db:
            ids = [r[0] for r in db.conn.execute("SELECT id FROM counters WHERE active = 1 ORDER BY sort, id")]
            return [self._counter_view(db, self._counter(db, i)) for i in ids]

    def counter(self, counter_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self._counter_view(db, self._counter(db, counter_id))

    def status(self) -> dict[str, Any]:
        """Live status of every service and counter (GET /api/v1/status)."""
        with self.store.read() as db:
            services = self._services(db)
            serving: dict[int, list[str]] = defaultdict(list)
            for r in db.conn.execute(
                "SELECT service_id, number FROM tickets WHERE status IN ('called', 'serving') AND day = ? "
                "ORDER BY called_at", (self.today(),),
            ):
                serving[r[0]].append(r[1])
            counters = [
                {"id": r["id"], "name": r["name"], "zone": r["zone"], "status": r["status"],
                 "current_number": r["number"]}
                for r in db.conn.execute(
                    "SELECT c.id, c.name, c.zone, c.status, t.number FROM counters c "
                    "LEFT JOIN tickets t ON t.id = c.current_ticket_id WHERE c.active = 1 ORDER BY c.sort, c.id"
                )
            ]
        return {
            "generated_at": iso(self.clock.now()),
            "services": [
                {
                    "service_id": s["id"], "code": s["code"], "name": s["name"],
                    "waiting": s["waiting"], "serving": serving.get(s["id"], []),
                    "eta_minutes": s["eta_minutes"], "open": s["open"], "quota_left": s["quota_left"],
                }
                for s in services
            ],
            "counters": counters,
        }

    def queue_changes(self, service_ids: Iterable[int]) -> list[dict[str, Any]]:
        """``queue:changed`` payloads for some services."""
        with self.store.read() as db:
            return [
                {"service_id": s["id"], "waiting": s["waiting"], "eta_minutes": s["eta_minutes"]}
                for s in self._services(db, only=service_ids)
            ]

    def events(self, after: int = 0, limit: int = 100) -> dict[str, Any]:
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT id, type, occurred_at, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        events = [
            {"id": r["id"], "type": r["type"], "occurred_at": r["occurred_at"], "ticket": json.loads(r["payload"])}
            for r in rows
        ]
        return {"events": events, "next": events[-1]["id"] if events else after}

    def last_event_id(self) -> int:
        with self.store.read() as db:
            return db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    def waiting_list(self, counter_id: int, actor: Actor = SYSTEM) -> list[dict[str, Any]]:
        """The waiting tickets a counter may call, in the order it would call them."""
        with self.store.read() as db:
            counter = self._usable_counter(db, counter_id, actor, guards=False)
            out = []
            for service_id in counter["service_ids"]:
                service = self._service(db, service_id)
                order = self._order(db, service)
                for pos, row in enumerate(order):
                    target = row.data["target_counter_id"]
                    if target is not None and target != counter_id:
                        continue
                    out.append({
                        "id": row.id, "number": row.data["number"], "service_id": service_id,
                        "priority": row.priority, "issued_at": self.local_iso(row.data["issued_at"]),
                        "position": pos,
                    })
            out.sort(key=lambda t: (t["position"], not t["priority"], t["issued_at"]))
            return out

    def waiting_positions(self, service_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Position and estimated wait of every waiting ticket of some services
        (what the visitors' tracking pages show), computed once per service."""
        out: list[dict[str, Any]] = []
        with self.store.read() as db:
            samples = self._mean_service_seconds(db)
            counters = self._open_counters(db)
            for service_id in sorted(set(service_ids)):
                try:
                    service = self._service(db, service_id)
                except NotFound:
                    continue
                mean = rules.mean_service_seconds(samples.get(service_id, []), service["standard_minutes"])
                open_counters = counters.get(service_id, 0)
                for position, row in enumerate(self._order(db, service)):
                    out.append({"ticket_id": row.id, "service_id": service_id, "position": position,
                                "eta_minutes": rules.eta_minutes(position, mean, open_counters)})
        return out

    # ------------------------------------------------------------------ writes

    def issue(self, service_id: Any, *, priority: bool = False, lang: str = "id", actor: Actor = SYSTEM,
              priority_reason: str | None = None) -> Outcome:
        """Issue a walk-in ticket (POST /api/v1/tickets)."""
        if not isinstance(priority, bool):
            raise Invalid("invalid_priority", "priority harus true atau false. (priority must be a boolean.)")
        if lang not in ("id", "en"):
            raise Invalid("invalid_lang", "lang harus 'id' atau 'en'. (lang must be 'id' or 'en'.)")
        # The token is made before the transaction: less work while others wait for it.
        request = IssueRequest(service_id, priority, lang, actor, new_track_token(), priority_reason)
        return self.store.run_grouped_write(self._issue_many, request)  # type: ignore[no-any-return]

    def _issue(self, db: sqlite_utils.Database, service_id: Any, *, priority: bool, lang: str, actor: Actor,
               priority_reason: str | None = None, source: str = "walkin", booking_code: str | None = None,
               queue_at: str | None = None) -> Outcome:
        """Issue one ticket inside the caller's transaction (a booking's check-in)."""
        request = IssueRequest(service_id, priority, lang, actor, new_track_token(), priority_reason, source,
                               booking_code, queue_at)
        return run_alone(self._issue_many, request, db)  # type: ignore[no-any-return]

    def _issue_many(self, db: sqlite_utils.Database, requests: list[IssueRequest]) -> list[Outcome | RuleError]:
        """Issue a ticket for each request, in order: its outcome, or the rule that refuses it.

        Exactly what issuing them one after another at this moment would do
        (a test holds it to that), but each statement serves all of them:
        one insert of the tickets, one of their events, one of their audit
        rows, and each service's figures read once.  This is the group
        commit's write for kiosks (:meth:`Store.run_grouped_write`): a busy
        hall's tickets of one batch cost little more than one.  A refused
        request writes nothing.
        """
        now_local = self.clock.now()
        now = now_local.astimezone(UTC).isoformat()
        today = now_local.date().isoformat()
        admission = _Admission(self, db, now_local, today)
        results: list[Outcome | RuleError] = []
        issued: list[_NewTicket] = []
        for request in requests:
            try:
                service, seq = admission.admit(request)
            except RuleError as refusal:
                results.append(refusal)
                continue
            ticket = _NewTicket(request, service, {
                "day": today, "number": rules.format_number(service["code"], seq), "service_id": service["id"],
                "priority": int(request.priority), "status": rules.WAITING, "issued_at": now,
                "queue_at": request.queue_at or now, "called_at": None, "counter_id": None,
                "track_token": request.token,
            }, seq)
            issued.append(ticket)
            results.append(ticket.outcome)
        if issued:
            self._write_new_tickets(db, issued, now)
        return results

    def _write_new_tickets(self, db: sqlite_utils.Database, issued: list[_NewTicket], now: str) -> None:
        """Insert admitted tickets with their events and audit rows; fill in their outcomes."""
        ids = dict(insert_returning(
            db, "INSERT INTO tickets (day, origin_service_id, seq, number, service_id, priority, priority_reason, "
            "status, source, booking_code, lang, issued_at, queue_at, track_token, device) VALUES",
            "(?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?)",
            [(t.row["day"], t.row["service_id"], t.seq, t.row["number"], t.row["service_id"], t.row["priority"],
              t.request.priority_reason if t.request.priority else None, t.request.source,
              t.request.booking_code, t.request.lang, now, t.row["queue_at"], t.row["track_token"],
              t.request.actor.device or t.request.actor.name) for t in issued],
            "track_token, id",
        ))
        for t in issued:
            t.row["id"] = ids[t.row["track_token"]]
        type_ = rules.EVENT_TYPES["issue"]
        occurred = self.local_iso(now) or now
        views = [self._view(t.row, position, eta)
                 for t, (position, eta) in zip(issued, self._new_ticket_figures(db, issued), strict=True)]
        event_ids = self.store.append_events(db, [EventEntry(type_, occurred, view, None) for view in views])
        entries = []
        for t, view, event_id in zip(issued, views, event_ids, strict=True):
            t.outcome.ticket = view
            t.outcome.events.append({"id": event_id, "type": type_, "occurred_at": occurred, "ticket": view})
            t.outcome.services.add(t.row["service_id"])
            details: dict[str, Any] = {"number": t.row["number"], "service_id": t.row["service_id"],
                                       "source": t.request.source}
            if t.request.priority:
                details["priority_reason"] = t.request.priority_reason or "unspecified"
            if t.request.booking_code:
                details["booking_code"] = t.request.booking_code
            actor = t.request.actor
            entries.append(AuditEntry(now, actor.label, actor.device, type_, t.row["id"], details))
        self.store.append_audits(db, entries)

    def _new_ticket_figures(self, db: sqlite_utils.Database, issued: list[_NewTicket]) -> list[tuple[int, int]]:
        """(position, eta_minutes) of each ticket just inserted, as it was when it alone was added.

        The database holds all of ``issued`` now; each ticket's figures leave
        out those issued after it, as issuing them one by one would have.
        Within one service, a later ticket of the group is behind an earlier
        one, and an earlier one is behind a later one only if it queues later
        (a booking's slot).
        """
        first = min(t.row["id"] for t in issued)
        figures: dict[tuple[int, str], tuple[Any, ...]] = {}
        for t in issued:
            key = (t.row["service_id"], t.row["queue_at"])
            if key not in figures:
                figures[key] = db.conn.execute(self._NEW_TICKET_FIGURES, {
                    "s": key[0], "q": key[1], "day": t.row["day"], "first": first, "n": RECENT_SAMPLES,
                }).fetchone()
        by_service: dict[int, list[_NewTicket]] = defaultdict(list)
        places = []  # each ticket's place among its service's tickets of the group
        for t in issued:
            mates = by_service[t.row["service_id"]]
            places.append(len(mates))
            mates.append(t)
        out = []
        for t, me in zip(issued, places, strict=True):
            key = (t.row["service_id"], t.row["queue_at"])
            n_normal, n_prio, normals_behind, prios_behind, streak, open_counters, samples = figures[key]
            others = [n_normal or 0, n_prio or 0]  # waiting of each class when it was added, but itself
            behind = [normals_behind, prios_behind]
            others[t.row["priority"]] -= 1
            mates = by_service[t.row["service_id"]]
            for later in mates[me + 1:]:
                others[later.row["priority"]] -= 1
            for earlier in mates[:me]:
                if earlier.row["queue_at"] > t.row["queue_at"]:
                    behind[earlier.row["priority"]] += 1
            out.append(_position_and_eta(t.service, bool(t.row["priority"]), others, behind, streak,
                                         open_counters, samples))
        return out

    def _current(self, db: sqlite_utils.Database, counter: dict[str, Any]) -> dict[str, Any]:
        if counter["current_ticket_id"] is None:
            raise RuleError("no_current_ticket", "Loket ini tidak sedang memanggil tiket. (No current ticket.)")
        return self._ticket_row(db, counter["current_ticket_id"])

    def _end_current(self, db: sqlite_utils.Database, counter: dict[str, Any], action: str, now: str,
                     actor: Actor, outcome: Outcome) -> None:
        t = self._current(db, counter)
        status = rules.next_status(action, t["status"])
        db.conn.execute(
            "UPDATE tickets SET status = ?, finished_at = ?, served_by = ? WHERE id = ?",
            (status, now, actor.label, t["id"]),
        )
        db.conn.execute("UPDATE counters SET current_ticket_id = NULL WHERE id = ?", (counter["id"],))
        counter["current_ticket_id"] = None
        self._event(db, action, t["id"], now, actor, counter_id=counter["id"], outcome=outcome)

    def _call(self, db: sqlite_utils.Database, counter: dict[str, Any], t: dict[str, Any], now: str,
              actor: Actor, outcome: Outcome, details: dict[str, Any] | None = None) -> None:
        rules.next_status("call", t["status"])
        db.conn.execute(
            "UPDATE tickets SET status = 'called', counter_id = ?, called_at = ?, "
            "first_called_at = COALESCE(first_called_at, ?), call_count = call_count + 1, "
            "target_counter_id = NULL WHERE id = ?",
            (counter["id"], now, now, t["id"]),
        )
        db.conn.execute("UPDATE counters SET current_ticket_id = ? WHERE id = ?", (t["id"], counter["id"]))
        service = self._service(db, t["service_id"])
        streak = self._streak(db, service["id"])
        new_streak = rules.PriorityRule.parse(service["priority_rule"]).next_streak(streak, bool(t["priority"]))
        db.conn.execute(
            "INSERT INTO rule_state (service_id, day, normal_streak) VALUES (?, ?, ?) "
            "ON CONFLICT (service_id, day) DO UPDATE SET normal_streak = excluded.normal_streak",
            (service["id"], self.today(), new_streak),
        )
        self._event(db, "call", t["id"], now, actor, counter_id=counter["id"], details=details, outcome=outcome)
        outcome.counter_id = counter["id"]

    def _usable_counter(self, db: sqlite_utils.Database, counter_id: int, actor: Actor, *,
                        guards: bool = True) -> dict[str, Any]:
        """The counter, if ``actor`` may work it: the tenant rule, then (for actions) the counter guards."""
        counter = self._counter(db, counter_id)
        if actor.tenant_id is not None:
            tenants = {
                r[0] for r in db.conn.execute(
                    "SELECT DISTINCT s.tenant_id FROM counter_services cs JOIN services s ON s.id = cs.service_id "
                    "WHERE cs.counter_id = ?", (counter_id,),
                )
            }
            if tenants and actor.tenant_id not in tenants:
                raise Forbidden(
                    "forbidden_counter", "Loket ini milik instansi lain. (This counter belongs to another agency.)"
                )
        if guards:
            for guard in self.counter_guards:
                guard(db, counter, actor)
        return counter

    @staticmethod
    def _check_expected(counter: dict[str, Any], expect_current: Any) -> None:
        """Refuse an action taken on a stale view (a double click, a second tab)."""
        if expect_current is UNCHECKED or counter["current_ticket_id"] == expect_current:
            return
        raise RuleError(
            "stale_state",
            "Layar loket tidak terbaru: tiket saat ini sudah berubah. Muat ulang. "
            "(The counter's current ticket changed: refresh.)",
            current_ticket_id=counter["current_ticket_id"],
        )

    def call_next(self, counter_id: int, actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        """End the counter's current ticket as served, then call the next one.

        The returned outcome has ``ticket`` None when nothing waits (the end of
        the previous ticket is still committed).
        """
        def op(db: sqlite_utils.Database) -> Any:
            counter = self._usable_counter(db, counter_id, actor)
            self._check_expected(counter, expect_current)
            if counter["status"] == "paused":
                raise RuleError("counter_paused", "Loket sedang istirahat. (The counter is paused.)")
            now = _utc_now_iso(self.clock)
            outcome = Outcome(None, counter_id=counter_id)
            if counter["current_ticket_id"] is not None:
                self._end_current(db, counter, "finish", now, actor, outcome)
            heads = [
                head for service_id in counter["service_ids"]
                if (head := self._head(db, self._service(db, service_id), counter_id)) is not None
            ]
            pick = rules.pick_across_services(heads)
            outcome.ticket = None
            if pick is None:
                return outcome
            self._call(db, counter, pick.data, now, actor, outcome)
            return outcome
        return self.store.run_write(op)

    def call_specific(self, counter_id: int, number: str, reason: str, actor: Actor = SYSTEM,
                      expect_current: Any = UNCHECKED) -> Outcome:
        """Call a given waiting number out of turn; the reason is audited and flagged."""
        if not isinstance(reason, str) or sum(not c.isspace() for c in reason) < 3 or len(reason) > 200:
            raise Invalid("reason_required", "Alasan wajib diisi (min. 3 huruf). (A reason is required.)")
        if not isinstance(number, str) or not number.strip() or len(number) > 16:
            raise Invalid("invalid_number", "Nomor antrian tidak sah. (Invalid ticket number.)")
        def op(db: sqlite_utils.Database) -> Any:
            counter = self._usable_counter(db, counter_id, actor)
            self._check_expected(counter, expect_current)
            if counter["status"] == "paused":
                raise RuleError("counter_paused", "Loket sedang istirahat. (The counter is paused.)")
            row = db.conn.execute(
                "SELECT * FROM tickets WHERE number = ? AND day = ? AND status = 'waiting' "
                "AND service_id IN (SELECT service_id FROM counter_services WHERE counter_id = ?)",
                (number.strip().upper(), self.today(), counter_id),
            ).fetchone()
            if row is None:
                raise NotFound(
                    "ticket_not_waiting",
                    f"Nomor {number} tidak sedang menunggu di layanan loket ini. "
                    "(That number is not waiting for this counter's services.)",
                )
            now = _utc_now_iso(self.clock)
            outcome = Outcome(None, counter_id=counter_id)
            if counter["current_ticket_id"] is not None:
                self._end_current(db, counter, "finish", now, actor, outcome)
            head = self._head(db, self._service(db, row["service_id"]), counter_id)
            in_order = head is not None and head.id == row["id"]
            self._call(db, counter, dict(row), now, actor, outcome,
                       details={"specific": True, "reason": reason.strip(), "out_of_order": not in_order})
            return outcome
        return self.store.run_write(op)

    def _counter_action(self, counter_id: int, action: str, actor: Actor, expect_current: Any = UNCHECKED) -> Outcome:
        def op(db: sqlite_utils.Database) -> Any:
            counter = self._usable_counter(db, counter_id, actor)
            self._check_expected(counter, expect_current)
            t = self._current(db, counter)
            now = _utc_now_iso(self.clock)
            outcome = Outcome(None, counter_id=counter_id)
            if action in ("finish", "no_show"):
                self._end_current(db, counter, action, now, actor, outcome)
            elif action == "start":
                rules.next_status("start", t["status"])
                db.conn.execute("UPDATE tickets SET status = 'serving', started_at = ? WHERE id = ?", (now, t["id"]))
                self._event(db, "start", t["id"], now, actor, counter_id=counter_id, outcome=outcome)
            elif action == "recall":
                rules.next_status("recall", t["status"])
                db.conn.execute(
                    "UPDATE tickets SET called_at = ?, call_count = call_count + 1 WHERE id = ?", (now, t["id"])
                )
                self._event(db, "recall", t["id"], now, actor, counter_id=counter_id, outcome=outcome)
            return outcome
        return self.store.run_write(op)

    def start(self, counter_id: int, actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        return self._counter_action(counter_id, "start", actor, expect_current)

    def recall(self, counter_id: int, actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        return self._counter_action(counter_id, "recall", actor, expect_current)

    def finish(self, counter_id: int, actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        return self._counter_action(counter_id, "finish", actor, expect_current)

    def no_show(self, counter_id: int, actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        return self._counter_action(counter_id, "no_show", actor, expect_current)

    def transfer(self, counter_id: int, *, service_id: Any = None, to_counter_id: Any = None,
                 actor: Actor = SYSTEM, expect_current: Any = UNCHECKED) -> Outcome:
        """Move the counter's current ticket to another service's queue (or to a
        given counter's), keeping its number and its place in time."""
        if service_id is None and to_counter_id is None:
            raise Invalid("service_id_required", "service_id wajib diisi. (service_id is required.)")
        if to_counter_id is not None and (not isinstance(to_counter_id, int) or isinstance(to_counter_id, bool)):
            raise Invalid("invalid_counter_id", "counter_id harus bilangan bulat. (counter_id must be an integer.)")
        def op(db: sqlite_utils.Database) -> Any:
            counter = self._usable_counter(db, counter_id, actor)
            self._check_expected(counter, expect_current)
            t = self._current(db, counter)
            target_service = self._service(db, service_id) if service_id is not None else None
            target_counter = None
            if to_counter_id is not None:
                target_counter = self._counter(db, to_counter_id)
                if to_counter_id == counter_id:
                    raise RuleError("same_counter", "Tiket sudah di loket ini. (The ticket is at this counter.)")
                if target_service is None:
                    target_service = self._service(db, t["service_id"])
                if target_service["id"] not in target_counter["service_ids"]:
                    raise RuleError(
                        "counter_does_not_serve",
                        f"{target_counter['name']} tidak melayani {target_service['name_id']}. "
                        "(That counter does not serve this service.)",
                    )
            assert target_service is not None
            if target_counter is None and target_service["id"] == t["service_id"]:
                raise RuleError("same_service", "Tiket sudah di layanan ini. (The ticket is already in this service.)")
            rules.next_status("transfer", t["status"])
            now = _utc_now_iso(self.clock)
            outcome = Outcome(None, counter_id=counter_id)
            outcome.services.add(t["service_id"])
            db.conn.execute(
                "UPDATE tickets SET status = 'waiting', service_id = ?, counter_id = NULL, started_at = NULL, "
                "target_counter_id = ? WHERE id = ?",
                (target_service["id"], to_counter_id, t["id"]),
            )
            db.conn.execute("UPDATE counters SET current_ticket_id = NULL WHERE id = ?", (counter_id,))
            self._event(db, "transfer", t["id"], now, actor, counter_id=counter_id, outcome=outcome, details={
                "from_service_id": t["service_id"], "to_service_id": target_service["id"],
                "to_counter_id": to_counter_id,
            })
            return outcome
        return self.store.run_write(op)

    def cancel(self, ticket_id: int, actor: Actor = SYSTEM, reason: str = "") -> Outcome:
        def op(db: sqlite_utils.Database) -> Any:
            return self._cancel(db, ticket_id, actor, reason)
        return self.store.run_write(op)

    def _cancel(self, db: sqlite_utils.Database, ticket_id: int, actor: Actor, reason: str) -> Outcome:
        t = self._ticket_row(db, ticket_id)
        rules.next_status("cancel", t["status"])
        now = _utc_now_iso(self.clock)
        db.conn.execute("UPDATE tickets SET status = 'cancelled', finished_at = ? WHERE id = ?", (now, ticket_id))
        outcome = Outcome(None, counter_id=t["counter_id"])
        if t["counter_id"] is not None:
            db.conn.execute(
                "UPDATE counters SET current_ticket_id = NULL WHERE id = ? AND current_ticket_id = ?",
                (t["counter_id"], ticket_id),
            )
        self._event(db, "cancel", ticket_id, now, actor, counter_id=t["counter_id"], outcome=outcome,
                    details={"reason": reason})
        return outcome

    def close_previous_days(self, actor: Actor = SYSTEM) -> Outcome:
        """Cancel tickets left open from an earlier day (numbering restarts daily)."""
        total = Outcome(None)
        def op(db: sqlite_utils.Database) -> Any:
            stale = [
                r[0] for r in db.conn.execute(
                    "SELECT id FROM tickets WHERE day < ? AND status IN ('waiting', 'called', 'serving') "
                    "ORDER BY id", (self.today(),),
                )
            ]
            for ticket_id in stale:
                t = self._ticket_row(db, ticket_id)
                if t["status"] == rules.SERVING:
                    # The visitor was being served when the day closed: record it as served.
                    now = _utc_now_iso(self.clock)
                    db.conn.execute(
                        "UPDATE tickets SET status = 'served', finished_at = ? WHERE id = ?", (now, ticket_id)
                    )
                    db.conn.execute(
                        "UPDATE counters SET current_ticket_id = NULL WHERE current_ticket_id = ?", (ticket_id,)
                    )
                    self._event(db, "finish", ticket_id, now, actor, counter_id=t["counter_id"], outcome=total,
                                details={"reason": "end_of_day"})
                else:
                    part = self._cancel(db, ticket_id, actor, "end_of_day")
                    total.events.extend(part.events)
                    total.services |= part.services
            total.ticket = None
            return total

        return self.store.run_write(op)

    def set_counter_status(
        self, counter_id: int, paused: bool, reason: str = "", actor: Actor = SYSTEM
    ) -> dict[str, Any]:
        if paused and (not isinstance(reason, str) or sum(not c.isspace() for c in reason) < 3 or len(reason) > 200):
            raise Invalid("reason_required", "Alasan istirahat wajib diisi. (A reason is required.)")
        def op(db: sqlite_utils.Database) -> Any:
            counter = self._usable_counter(db, counter_id, actor)
            if paused and counter["current_ticket_id"] is not None:
                raise RuleError(
                    "counter_busy",
                    "Selesaikan tiket yang sedang dilayani dulu. (Finish the current ticket first.)",
                )
            db.conn.execute(
                "UPDATE counters SET status = ?, pause_reason = ? WHERE id = ?",
                ("paused" if paused else "open", reason.strip() if paused else None, counter_id),
            )
            self.store.append_audit(
                db, actor=actor.label, device=actor.device, action="counter.paused" if paused else "counter.resumed",
                details={"counter_id": counter_id, "reason": reason}, at=_utc_now_iso(self.clock),
            )
            return self._counter_view(db, self._counter(db, counter_id))
        return self.store.run_write(op)

    # ---------------------------------------------------------------- bookings

    def create_booking(self, code: Any, service_id: Any, slot_start: Any, name: Any = "",
                       actor: Actor = SYSTEM) -> dict[str, Any]:
        if not isinstance(code, str) or not (4 <= len(code.strip()) <= 32) or not code.strip().isalnum():
            raise Invalid("invalid_code", "Kode booking harus 4–32 huruf/angka. (Booking code: 4–32 letters/digits.)")
        if not isinstance(name, str) or len(name) > 120:
            raise Invalid("invalid_name", "Nama terlalu panjang. (Name too long.)")
        if not isinstance(slot_start, str):
            raise Invalid("invalid_slot", "slot_start harus waktu ISO 8601. (slot_start must be ISO 8601.)")
        try:
            slot = datetime.fromisoformat(slot_start)
        except ValueError as exc:
            raise Invalid("invalid_slot", "slot_start harus waktu ISO 8601. (slot_start must be ISO 8601.)") from exc
        if slot.tzinfo is None:
            slot = slot.replace(tzinfo=self.clock.tz)
        code = code.strip().upper()
        def op(db: sqlite_utils.Database) -> Any:
            service = self._service(db, service_id)
            if db.conn.execute("SELECT 1 FROM bookings WHERE code = ?", (code,)).fetchone():
                raise RuleError("booking_exists", "Kode booking sudah terdaftar. (Booking code already exists.)")
            slot_day = self.clock.day_of(slot)
            if slot_day < self.today():
                raise RuleError("booking_in_past", "Slot booking sudah lewat. (The slot is in the past.)")
            if not service["active"]:
                raise RuleError("service_closed", "Layanan ini tidak aktif. (This service is not active.)")
            if not rules.is_open(service["hours"], self.clock.local(slot)):
                raise RuleError(
                    "booking_outside_hours",
                    f"Layanan {service['name_id']} tutup pada {self.clock.local(slot):%d-%m-%Y %H:%M}. "
                    f"({service['name_en']} is closed at that time.)",
                )
            if service["quota_online"] is not None:
                used = db.conn.execute(
                    "SELECT COUNT(*) FROM bookings WHERE service_id = ? AND slot_day = ? AND status != 'cancelled'",
                    (service["id"], slot_day),
                ).fetchone()[0]
                if used >= service["quota_online"]:
                    raise RuleError("quota_reached", "Kuota online hari itu sudah habis. (Online quota full.)")
            now = _utc_now_iso(self.clock)
            db.conn.execute(
                "INSERT INTO bookings (code, service_id, slot_start, slot_day, name, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'booked', ?)",
                (code, service["id"], slot.astimezone(UTC).isoformat(), slot_day, name.strip(), now),
            )
            self.store.append_audit(db, actor=actor.label, device=actor.device, action="booking.created",
                                    details={"code": code, "service_id": service["id"]}, at=now)
            return self._booking(db, code)
        return self.store.run_write(op)

    def _booking(self, db: sqlite_utils.Database, code: str) -> dict[str, Any]:
        r = db.conn.execute("SELECT * FROM bookings WHERE code = ?", (code,)).fetchone()
        if r is None:
            raise NotFound("booking_not_found", "Kode booking tidak dikenal. (Unknown booking code.)")
        return {
            "code": r["code"], "service_id": r["service_id"], "slot_start": self.local_iso(r["slot_start"]),
            "name": r["name"], "status": r["status"], "ticket_id": r["ticket_id"],
        }

    def booking(self, code: str) -> dict[str, Any]:
        with self.store.read() as db:
            return self._booking(db, code.strip().upper())

    def booking_rules(self, db: sqlite_utils.Database) -> dict[str, Any]:
        """The booking settings in force (bad stored values fall back to the defaults)."""
        out = dict(BOOKING_DEFAULTS)
        mode = self.store.get_setting(db, "booking_queue_mode", out["booking_queue_mode"])
        if mode in BOOKING_QUEUE_MODES:
            out["booking_queue_mode"] = mode
        for key in ("booking_early_minutes", "booking_late_minutes"):
            value = self.store.get_setting(db, key, out[key])
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= BOOKING_MINUTES_MAX:
                out[key] = value
        return out

    def cancel_booking(self, code: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Cancel a booking not yet checked in (its online quota place is freed)."""
        code = (code or "").strip().upper()
        def op(db: sqlite_utils.Database) -> Any:
            booking = self._booking(db, code)
            if booking["status"] == "checked_in":
                raise RuleError("booking_used", "Booking ini sudah check-in. (This booking was already used.)")
            if booking["status"] == "booked":
                db.conn.execute("UPDATE bookings SET status = 'cancelled' WHERE code = ?", (code,))
                self.store.append_audit(db, actor=actor.label, device=actor.device, action="booking.cancelled",
                                        details={"code": code}, at=_utc_now_iso(self.clock))
            return self._booking(db, code)
        return self.store.run_write(op)

    def check_in(self, code: str, actor: Actor = SYSTEM, lang: str = "id",
                 early_minutes: int | None = None, late_minutes: int | None = None) -> Outcome:
        """Check a booking in.  With ``booking_queue_mode`` ``slot`` (the default) its
        ticket joins the queue at the slot's start, keeping the slot's place; with
        ``arrival`` at the moment of check-in."""
        code = (code or "").strip().upper()
        def op(db: sqlite_utils.Database) -> Any:
            booking = self._booking(db, code)
            settings = self.booking_rules(db)
            early = settings["booking_early_minutes"] if early_minutes is None else early_minutes
            late = settings["booking_late_minutes"] if late_minutes is None else late_minutes
            if booking["status"] == "checked_in":
                used = db.conn.execute("SELECT number FROM tickets WHERE id = ?", (booking["ticket_id"],)).fetchone()
                number = used[0] if used else "-"
                raise RuleError(
                    "booking_used",
                    f"Kode booking ini sudah dipakai untuk nomor {number}. "
                    f"(This booking was already used for ticket {number}.)",
                    ticket_number=number,
                )
            if booking["status"] == "cancelled":
                raise RuleError("booking_cancelled", "Booking ini dibatalkan. (This booking was cancelled.)")
            now = self.clock.now()
            slot = self.clock.local(datetime.fromisoformat(booking["slot_start"] or ""))
            opens, closes = slot - timedelta(minutes=early), slot + timedelta(minutes=late)
            if self.clock.day_of(slot) != self.today():
                if slot > now:
                    raise RuleError(
                        "booking_not_today",
                        f"Booking ini untuk tanggal {slot:%d-%m-%Y} pukul {slot:%H:%M}. "
                        f"(This booking is for {slot:%d-%m-%Y} at {slot:%H:%M}.)",
                        slot_start=iso(slot),
                    )
                raise RuleError(
                    "booking_expired",
                    f"Booking ini untuk tanggal {slot:%d-%m-%Y} dan sudah lewat. "
                    f"(This booking was for {slot:%d-%m-%Y} and has expired.)",
                    slot_start=iso(slot),
                )
            if now < opens:
                raise RuleError(
                    "booking_too_early",
                    f"Terlalu awal: jadwal Anda pukul {slot:%H:%M}; check-in mulai pukul {opens:%H:%M}. "
                    f"(Too early: your slot is at {slot:%H:%M}; check-in opens at {opens:%H:%M}.)",
                    slot_start=iso(slot), check_in_from=iso(opens),
                )
            if now > closes:
                raise RuleError(
                    "booking_expired",
                    f"Waktu booking sudah lewat: jadwal pukul {slot:%H:%M}, batas check-in pukul {closes:%H:%M}. "
                    "Silakan ambil nomor antrian biasa. "
                    f"(The booking has expired: slot {slot:%H:%M}, check-in closed at {closes:%H:%M}.)",
                    slot_start=iso(slot),
                )
            if settings["booking_queue_mode"] == "slot":
                queue_at = slot.astimezone(UTC).isoformat()  # the slot's place, early or a little late
            else:
                queue_at = None  # joins at arrival, like a walk-in
            outcome = self._issue(db, booking["service_id"], priority=False, lang=lang, actor=actor,
                                  source="booking", booking_code=code, queue_at=queue_at)
            assert outcome.ticket is not None
            db.conn.execute(
                "UPDATE bookings SET status = 'checked_in', ticket_id = ? WHERE code = ?",
                (outcome.ticket["id"], code),
            )
            return outcome
        return self.store.run_write(op)

    # ------------------------------------------------------------ screen views

    def lookup(self, counter_id: int | None, service_id: int) -> dict[str, Any]:
        """The counter and service a call names (for ``ticket:called``)."""
        with self.store.read() as db:
            service = self._service(db, service_id)
            counter = self._counter(db, counter_id) if counter_id is not None else None
        return {
            "counter": None if counter is None else {"id": counter["id"], "name": counter["name"],
                                                     "zone": counter["zone"]},
            "service": {"id": service["id"], "code": service["code"], "name": service["name_id"],
                        "name_en": service["name_en"]},
        }

    def recent_calls(self, db: sqlite_utils.Database, limit: int = 10, zone: str | None = None) -> list[dict[str, Any]]:
        start = datetime.combine(self.clock.today(), datetime.min.time(), tzinfo=self.clock.tz)
        rows = db.conn.execute(
            "SELECT e.id, e.type, e.occurred_at, e.payload, c.id AS cid, c.name AS cname, c.zone "
            "FROM events e JOIN counters c ON c.id = e.counter_id "
            "WHERE e.type IN ('ticket.called', 'ticket.recalled') AND e.occurred_at >= ? "
            "AND (? IS NULL OR c.zone = ?) ORDER BY e.id DESC LIMIT ?",
            (iso(start), zone, zone, limit),
        ).fetchall()
        services = {r["id"]: r for r in db.conn.execute("SELECT id, code, name_id FROM services")}
        out = []
        for r in rows:
            ticket = json.loads(r["payload"])
            s = services.get(ticket["service_id"])
            out.append({
                "event_id": r["id"], "number": ticket["number"], "recall": r["type"] == "ticket.recalled",
                "at": r["occurred_at"], "counter": {"id": r["cid"], "name": r["cname"]},
                "service": {"id": ticket["service_id"], "code": s["code"] if s else "",
                            "name": s["name_id"] if s else ""},
            })
        return out

    def display_state(self, zone: str | None = None) -> dict[str, Any]:
        """Everything a waiting-room display needs to draw itself (``queue:state``)."""
        with self.store.read() as db:
            services = self._services(db)
            counters = []
            for r in db.conn.execute(
                "SELECT c.id, c.name, c.zone, c.status, t.number, t.status AS tstatus FROM counters c "
                "LEFT JOIN tickets t ON t.id = c.current_ticket_id "
                "WHERE c.active = 1 AND (? IS NULL OR c.zone = ?) ORDER BY c.sort, c.id", (zone, zone),
            ):
                counters.append({"id": r["id"], "name": r["name"], "zone": r["zone"], "status": r["status"],
                                 "current_number": r["number"], "current_status": r["tstatus"]})
            if zone is not None:
                served = {
                    r[0] for r in db.conn.execute(
                        "SELECT DISTINCT cs.service_id FROM counter_services cs "
                        "JOIN counters c ON c.id = cs.counter_id WHERE c.zone = ?", (zone,),
                    )
                }
                services = [s for s in services if s["id"] in served]
            return {
                "generated_at": iso(self.clock.now()),
                "mpp_name": self.store.get_setting(db, "mpp_name", "Mal Pelayanan Publik"),
                "running_text": self.store.get_setting(db, "running_text", ""),
                "zone": zone,
                "counters": counters,
                "services": services,
                "recent_calls": self.recent_calls(db, 10, zone),
                "last_event_id": db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0],
            }

    def zones(self) -> list[str]:
        with self.store.read() as db:
            return [r[0] for r in db.conn.execute(
                "SELECT DISTINCT zone FROM counters WHERE zone != '' AND active = 1 ORDER BY zone")]


def _position_and_eta(service: dict[str, Any], is_priority: bool, others: list[int], behind: list[int],
                      streak: int | None, open_counters: int, samples: str | None) -> tuple[int, int]:
    """A waiting ticket's (position, eta_minutes) from its service's figures.

    ``others``: the other waiting tickets of each class (normal, priority);
    ``behind``: those of them queued behind it; ``samples``: recent service
    times in seconds, as a JSON array.
    """
    rule = rules.PriorityRule.parse(service["priority_rule"])
    position = rules.position(rule, streak or 0, is_priority, others[0] - behind[0], others[1] - behind[1],
                              others[0], others[1])
    mean = rules.mean_service_seconds(json.loads(samples or "[]"), service["standard_minutes"])
    return position, rules.eta_minutes(position, mean, open_counters)


@dataclass(frozen=True)
class IssueRequest:
    """One ticket asked for, as :meth:`Queue._issue_many` takes it."""

    service_id: Any
    priority: bool
    lang: str
    actor: Actor
    token: str  #: the tracking token, made before the transaction
    priority_reason: str | None = None
    source: str = "walkin"
    booking_code: str | None = None
    queue_at: str | None = None  #: UTC; None: now (a booking's slot may put it elsewhere)


@dataclass(eq=False)
class _NewTicket:
    """A ticket admitted by :class:`_Admission`, on its way into the database."""

    request: IssueRequest
    service: dict[str, Any]
    row: dict[str, Any]  #: the columns its event and answer need, as written
    seq: int
    outcome: Outcome = field(default_factory=lambda: Outcome(None))


class _Admission:
    """The checks a request passes before its ticket is issued.

    For the requests of one group: each service is read once, and the
    tickets the group has admitted so far count towards the numbers and the
    walk-in quota of those after them, as they would one by one.
    """

    def __init__(self, queue: Queue, db: sqlite_utils.Database, now_local: datetime, today: str) -> None:
        self.queue, self.db, self.now_local, self.today = queue, db, now_local, today
        self.services: dict[int, dict[str, Any]] = {}
        self.next_seq: dict[int, int] = {}
        self.walkins: dict[int, int] = {}

    def admit(self, request: IssueRequest) -> tuple[dict[str, Any], int]:
        """The service and the sequence number of the request's ticket, or the RuleError refusing it."""
        service_id = request.service_id
        if type(service_id) is int and service_id in self.services:
            service = self.services[service_id]
        else:
            service = self.services[service_id] = self.queue._service(self.db, service_id)
        now_local = self.now_local
        if not service["active"]:
            raise RuleError("service_closed", "Layanan ini tidak aktif. (This service is not active.)")
        if not rules.is_open(service["hours"], now_local):
            opening = rules.next_opening(service["hours"], now_local)
            when = opening.strftime("%d-%m-%Y %H:%M") if opening else "-"
            raise RuleError(
                "service_closed",
                f"Layanan {service['name_id']} sedang tutup; buka lagi {when}. "
                f"({service['name_en']} is closed; it opens again {when}.)",
                opens_at=iso(opening),
            )
        sid = service["id"]
        if request.source == "walkin" and service["quota_walkin"] is not None:
            used = self._read_once(self.walkins, sid, "SELECT COUNT(*) FROM tickets "
                                   "WHERE origin_service_id = ? AND day = ? AND source = 'walkin'")
            if used >= service["quota_walkin"]:
                opening = rules.next_opening(service["hours"], now_local.replace(hour=23, minute=59))
                raise RuleError(
                    "quota_reached",
                    f"Kuota harian {service['name_id']} sudah habis. Silakan datang lagi besok. "
                    f"(Today's quota for {service['name_en']} is full.)",
                    opens_at=iso(opening),
                )
            self.walkins[sid] = used + 1
        seq = self._read_once(self.next_seq, sid, "SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets "
                              "WHERE origin_service_id = ? AND day = ?")
        self.next_seq[sid] = seq + 1
        return service, seq

    def _read_once(self, kept: dict[int, int], service_id: int, sql: str) -> int:
        """A service's figure of today (``sql`` with the service and the day): read for
        the group's first ticket of that service, then kept up to date by the group."""
        if service_id not in kept:
            kept[service_id] = self.db.conn.execute(sql, (service_id, self.today)).fetchone()[0]
        return kept[service_id]
