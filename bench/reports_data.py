"""Tickets, events, audit rows and SKM responses written by direct SQL, in the core's shape.

A month of a busy MPP is 100,000 tickets; making them through :class:`antre.queue.Queue`
would take minutes, so the benchmark writes the rows itself.  To be sure the
rows look exactly like the core's, :func:`validate_against_core` plays one
scripted day through the real core AND through :class:`Writer`, and compares
every column of every ticket, event and audit row (ids and secrets aside).

A script is a list of steps ``(moment, action, key, args)``:

* ``("issue", key, {"service": id, "actor": Actor, "priority": bool})``
* ``("call", key, {"counter": id, "actor": Actor})`` (the next in the queue)
* ``("call_specific", key, {"counter": id, "actor": Actor, "reason": str, "out_of_order": bool})``
* ``("recall" | "start" | "finish" | "no_show", key, {"counter": id, "actor": Actor})``
* ``("transfer", key, {"counter": id, "actor": Actor, "service": id})``
* ``("cancel", key, {"actor": Actor, "reason": str})``
"""

from __future__ import annotations

import json
import math
import random
import secrets
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from antre.clock import FrozenClock, iso
from antre.queue import SYSTEM, Actor, Queue
from antre.rules import EVENT_TYPES, format_number
from antre.store import Store, audit_hash

Step = tuple[datetime, str, Any, dict[str, Any]]
TZ = ZoneInfo("Asia/Jakarta")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _local(moment: datetime) -> str:
    return iso(moment.astimezone(TZ)) or ""


@dataclass
class _Ticket:
    row: dict[str, Any]


class Writer:
    """Applies scripted steps as rows (the core's columns, formats and side rows)."""

    TICKET_COLUMNS = ("id", "day", "origin_service_id", "seq", "number", "service_id", "priority",
                      "priority_reason", "status", "source", "booking_code", "lang", "issued_at", "queue_at",
                      "first_called_at", "called_at", "started_at", "finished_at", "counter_id",
                      "target_counter_id", "call_count", "served_by", "track_token", "device")

    def __init__(self, conn: sqlite3.Connection, public_url: str = "http://antre.test") -> None:
        self.conn = conn
        self.public_url = public_url
        self.services = {r[0]: {"code": r[1]} for r in conn.execute("SELECT id, code FROM services")}
        self.next_ticket = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0]) + 1
        self.next_event = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]) + 1
        self.next_audit = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]) + 1
        last = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        self.prev_hash = last[0] if last else "0" * 64
        self.seq: dict[tuple[int, str], int] = defaultdict(int)
        self.tickets: dict[Any, _Ticket] = {}
        self.rows: dict[str, list[tuple[Any, ...]]] = {"tickets": [], "events": [], "audit": []}

    # ---------------------------------------------------------------- rows

    def _payload(self, t: dict[str, Any]) -> dict[str, Any]:
        waiting = t["status"] == "waiting"
        return {
            "id": t["id"], "number": t["number"], "service_id": t["service_id"], "priority": bool(t["priority"]),
            "status": t["status"], "issued_at": _local(datetime.fromisoformat(t["issued_at"])),
            "called_at": _local(datetime.fromisoformat(t["called_at"])) if t["called_at"] else None,
            "counter_id": t["counter_id"], "position": 0 if waiting else None, "eta_minutes": 0 if waiting else None,
            "track_url": f"{self.public_url}/t/{t['track_token']}",
        }

    def _event(self, t: dict[str, Any], action: str, moment: datetime, actor: Actor, counter_id: int | None,
               details: dict[str, Any] | None = None) -> None:
        type_ = EVENT_TYPES[action]
        payload = self._payload(t)
        self.rows["events"].append((self.next_event, type_, _local(moment), t["id"], counter_id,
                                    json.dumps(payload, sort_keys=True)))
        self.next_event += 1
        row = {"at": _utc(moment), "actor": actor.label, "device": actor.device, "action": type_,
               "ticket_id": t["id"], "details": json.dumps({"number": t["number"], "service_id": t["service_id"],
                                                             **(details or {})}, sort_keys=True, ensure_ascii=False)}
        digest = audit_hash(self.prev_hash, row)
        self.rows["audit"].append((self.next_audit, row["at"], row["actor"], row["device"], row["action"],
                                   row["ticket_id"], row["details"], self.prev_hash, digest))
        self.prev_hash = digest
        self.next_audit += 1

    def apply(self, moment: datetime, action: str, key: Any, args: dict[str, Any]) -> None:
        actor: Actor = args.get("actor", SYSTEM)
        now = _utc(moment)
        if action == "issue":
            service_id = args["service"]
            day = moment.astimezone(TZ).date().isoformat()
            self.seq[(service_id, day)] += 1
            seq = self.seq[(service_id, day)]
            priority = bool(args.get("priority"))
            t = {"id": self.next_ticket, "day": day, "origin_service_id": service_id, "seq": seq,
                 "number": format_number(self.services[service_id]["code"], seq), "service_id": service_id,
                 "priority": int(priority), "priority_reason": args.get("priority_reason") if priority else None,
                 "status": "waiting", "source": "walkin", "booking_code": None, "lang": "id", "issued_at": now,
                 "queue_at": now, "first_called_at": None, "called_at": None, "started_at": None,
                 "finished_at": None, "counter_id": None, "target_counter_id": None, "call_count": 0,
                 "served_by": None, "track_token": secrets.token_urlsafe(18), "device": actor.device or actor.name}
            self.next_ticket += 1
            self.tickets[key] = _Ticket(t)
            details: dict[str, Any] = {"source": "walkin"}
            if priority:
                details["priority_reason"] = args.get("priority_reason") or "unspecified"
            self._event(t, "issue", moment, actor, None, details)
            return
        t = self.tickets[key].row
        counter = args.get("counter")
        if action in ("call", "call_specific"):
            t.update(status="called", counter_id=counter, called_at=now,
                     first_called_at=t["first_called_at"] or now, call_count=t["call_count"] + 1,
                     target_counter_id=None)
            details = None
            if action == "call_specific":
                details = {"specific": True, "reason": args["reason"], "out_of_order": args["out_of_order"]}
            self._event(t, "call", moment, actor, counter, details)
        elif action == "recall":
            t.update(called_at=now, call_count=t["call_count"] + 1)
            self._event(t, "recall", moment, actor, counter)
        elif action == "start":
            t.update(status="serving", started_at=now)
            self._event(t, "start", moment, actor, counter)
        elif action in ("finish", "no_show"):
            t.update(status="served" if action == "finish" else "no_show", finished_at=now, served_by=actor.label)
            self._event(t, action, moment, actor, counter)
        elif action == "transfer":
            old = t["service_id"]
            t.update(status="waiting", service_id=args["service"], counter_id=None, started_at=None,
                     target_counter_id=None)
            self._event(t, "transfer", moment, actor, counter, {"from_service_id": old,
                                                                "to_service_id": args["service"],
                                                                "to_counter_id": None})
        elif action == "cancel":
            t.update(status="cancelled", finished_at=now)
            self._event(t, "cancel", moment, actor, t["counter_id"], {"reason": args.get("reason", "")})
        else:
            raise ValueError(action)

    def flush(self) -> None:
        """Write every ticket (in its final state), event and audit row."""
        cols = self.TICKET_COLUMNS
        self.conn.executemany(
            f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608
            [tuple(t.row[c] for c in cols) for t in self.tickets.values()])
        self.conn.executemany("INSERT INTO events (id, type, occurred_at, ticket_id, counter_id, payload) "
                              "VALUES (?, ?, ?, ?, ?, ?)", self.rows["events"])
        self.conn.executemany("INSERT INTO audit (id, at, actor, device, action, ticket_id, details, prev_hash, "
                              "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rows["audit"])
        self.tickets.clear()
        self.rows = {"tickets": [], "events": [], "audit": []}


# -------------------------------------------------------- validation


def play_core(store: Store, steps: list[Step]) -> None:
    """The same script through the real core (a frozen clock moved to each step)."""
    clock = FrozenClock(steps[0][0])
    queue = Queue(store, clock, "http://antre.test")
    ids: dict[Any, int] = {}
    for moment, action, key, args in sorted(steps, key=lambda s: s[0]):
        clock.set(moment)
        actor = args.get("actor", SYSTEM)
        if action == "issue":
            out = queue.issue(args["service"], priority=bool(args.get("priority")), actor=actor,
                              priority_reason=args.get("priority_reason"))
            ids[key] = out.ticket["id"]
        elif action == "call":
            out = queue.call_next(args["counter"], actor)
            assert out.ticket is not None and out.ticket["id"] == ids[key], (key, out.ticket)
        elif action == "call_specific":
            number = queue.ticket(ids[key])["number"]
            queue.call_specific(args["counter"], number, args["reason"], actor)
        elif action in ("recall", "start", "finish", "no_show"):
            getattr(queue, action)(args["counter"], actor)
        elif action == "transfer":
            queue.transfer(args["counter"], service_id=args["service"], actor=actor)
        elif action == "cancel":
            queue.cancel(ids[key], actor, args.get("reason", ""))


def _dump(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    conn.row_factory = sqlite3.Row
    tickets = [dict(r) for r in conn.execute("SELECT * FROM tickets ORDER BY id")]
    for t in tickets:
        t.pop("track_token")
    events = []
    for r in conn.execute("SELECT * FROM events ORDER BY id"):
        e = dict(r)
        payload = json.loads(e.pop("payload"))
        for k in ("position", "eta_minutes", "track_url"):  # computed from the live queue / the secret
            payload.pop(k)
        e["payload"] = payload
        events.append(e)
    audit = [{k: r[k] for k in ("at", "actor", "device", "action", "ticket_id", "details")}
             for r in conn.execute("SELECT * FROM audit WHERE action LIKE 'ticket.%' ORDER BY id")]
    return {"tickets": tickets, "events": events, "audit": audit}


def validation_script(day: date) -> list[Step]:
    """One morning with every kind of step: recall, start, no-show, transfer, a call out of order, cancel."""
    kiosk = Actor("Kiosk lobi", "kiosk", device="Kiosk lobi")
    sari = Actor("sari", "counter", device="ip:10.0.0.21", user_id=1)
    budi = Actor("budi", "counter", device="ip:10.0.0.22", user_id=2)
    at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=TZ)

    def m(minutes: float) -> datetime:
        return at + timedelta(minutes=minutes)

    return [
        (m(0), "issue", "a1", {"service": 1, "actor": kiosk}),
        (m(1), "issue", "a2", {"service": 1, "actor": kiosk}),
        (m(2), "issue", "a3", {"service": 1, "actor": kiosk}),
        (m(3), "issue", "b1", {"service": 2, "actor": kiosk, "priority": True, "priority_reason": "elderly"}),
        (m(4), "call_specific", "a3", {"counter": 1, "actor": sari, "reason": "berkas sudah diperiksa",
                                       "out_of_order": True}),
        (m(5), "recall", "a3", {"counter": 1, "actor": sari}),
        (m(6), "start", "a3", {"counter": 1, "actor": sari}),
        (m(9), "finish", "a3", {"counter": 1, "actor": sari}),
        (m(10), "call", "a1", {"counter": 1, "actor": sari}),
        (m(12), "no_show", "a1", {"counter": 1, "actor": sari}),
        (m(13), "call", "b1", {"counter": 3, "actor": budi}),
        (m(15), "transfer", "b1", {"counter": 3, "actor": budi, "service": 3}),
        (m(16), "call", "b1", {"counter": 3, "actor": budi}),
        (m(21), "finish", "b1", {"counter": 3, "actor": budi}),
        (m(22), "cancel", "a2", {"actor": sari, "reason": "salah layanan"}),
    ]


def validate_against_core(tmp: Any) -> int:
    """Play the validation script through the core and through :class:`Writer`; compare every row.

    Returns the number of rows compared; raises AssertionError on the first difference.
    """
    from pathlib import Path

    from antre.demo import seed_demo

    steps = validation_script(date(2026, 11, 23))
    core_store = Store(Path(tmp) / "core")
    seed_demo(core_store)
    play_core(core_store, steps)
    core_store.close()
    gen_store = Store(Path(tmp) / "gen")
    seed_demo(gen_store)
    gen_store.close()
    conn = sqlite3.connect(Path(tmp) / "gen" / "antre.db", isolation_level=None)
    conn.execute("BEGIN")
    writer = Writer(conn)
    for step in sorted(steps, key=lambda s: s[0]):
        writer.apply(*step)
    writer.flush()
    conn.execute("COMMIT")
    made = _dump(conn)
    conn.close()
    real = _dump(sqlite3.connect(Path(tmp) / "core" / "antre.db"))
    compared = 0
    for table in ("tickets", "events", "audit"):
        assert len(made[table]) == len(real[table]), (table, len(made[table]), len(real[table]))
        for a, b in zip(made[table], real[table], strict=True):
            assert a == b, f"{table} differs:\n generated {a}\n core      {b}"
            compared += 1
    check = Store(Path(tmp) / "gen").verify_audit()
    assert check.ok, check
    return compared


# ----------------------------------------------------------- a month


def month_steps(services: dict[int, dict[str, Any]], counters: dict[int, list[int]], first: date, days: int,
                per_day: int, rng: random.Random) -> tuple[list[Step], list[tuple[Any, int]]]:
    """A busy month: arrivals peaking 08:00-11:00, each service's counters serving first come first
    served, service times around a share of the standard, recalls, no-shows, transfers, a few calls
    out of order, and the tickets still waiting at closing cancelled at night.

    Returns the steps and, for served tickets, (key, counter) pairs (survey candidates).
    """
    kiosks = [Actor(f"Kiosk {n}", "kiosk", device=f"Kiosk {n}") for n in (1, 2, 3)]
    staff = {cid: Actor(f"petugas{cid:02d}", "counter", device=f"ip:10.0.1.{cid}") for cid in
             {c for cs in counters.values() for c in cs}}
    service_ids = [s for s in services if counters.get(s)]
    weights = [services[s]["weight"] for s in service_ids]
    steps: list[Step] = []
    served: list[tuple[Any, int]] = []
    hours = [(7.5, 8, 0.06), (8, 9, 0.22), (9, 10, 0.24), (10, 11, 0.2), (11, 12, 0.12), (12, 13, 0.05),
             (13, 14, 0.07), (14, 15, 0.04)]
    for d in range(days):
        day = first + timedelta(days=d)
        base = datetime(day.year, day.month, day.day, tzinfo=TZ)
        free: dict[int, float] = {c: 8.0 * 3600 for c in staff}
        arrivals = []
        for n in range(per_day):
            start, end, _ = rng.choices(hours, weights=[h[2] for h in hours])[0]
            arrivals.append((rng.uniform(start, end) * 3600, rng.choices(service_ids, weights)[0], n))
        arrivals.sort()
        for at, sid, n in arrivals:
            key = (d, n)
            steps.append((base + timedelta(seconds=at), "issue", key,
                          {"service": sid, "actor": rng.choice(kiosks), "priority": rng.random() < 0.04,
                           "priority_reason": "elderly"}))
            counter = min(counters[sid], key=lambda c: free[c])
            call = max(at, free[counter]) + rng.uniform(5, 40)
            if call > 16 * 3600:  # still waiting at closing: cancelled at night by Antre itself
                steps.append((base + timedelta(days=1, minutes=1), "cancel", key,
                              {"actor": SYSTEM, "reason": "end_of_day"}))
                continue
            actor = staff[counter]
            kind = "call"
            if rng.random() < 0.004:
                steps.append((base + timedelta(seconds=call), "call_specific", key,
                              {"counter": counter, "actor": actor, "reason": "lansia, berkas lengkap",
                               "out_of_order": True}))
            else:
                steps.append((base + timedelta(seconds=call), kind, key, {"counter": counter, "actor": actor}))
            moment = call
            if rng.random() < 0.1:
                moment += rng.uniform(30, 90)
                steps.append((base + timedelta(seconds=moment), "recall", key, {"counter": counter, "actor": actor}))
            if rng.random() < 0.07:
                moment += rng.uniform(60, 120)
                steps.append((base + timedelta(seconds=moment), "no_show", key, {"counter": counter, "actor": actor}))
                free[counter] = moment
                continue
            moment += rng.uniform(20, 60)
            steps.append((base + timedelta(seconds=moment), "start", key, {"counter": counter, "actor": actor}))
            standard = services[sid]["standard_minutes"] * 60
            moment += min(standard * 3, rng.lognormvariate(math.log(standard * 0.45), 0.5))
            if rng.random() < 0.03:
                other = rng.choice(service_ids)
                if other != sid and counters.get(other):
                    steps.append((base + timedelta(seconds=moment), "transfer", key,
                                  {"counter": counter, "actor": actor, "service": other}))
                    free[counter] = moment
                    second = min(counters[other], key=lambda c: free[c])
                    moment = max(moment, free[second]) + rng.uniform(60, 600)
                    counter, actor = second, staff[second]
                    steps.append((base + timedelta(seconds=moment), "call", key, {"counter": counter, "actor": actor}))
                    moment += rng.lognormvariate(math.log(services[other]["standard_minutes"] * 27), 0.5)
            steps.append((base + timedelta(seconds=moment), "finish", key, {"counter": counter, "actor": actor}))
            free[counter] = moment
            served.append((key, counter))
    return steps, served


def write_month(store: Store, first: date, days: int, per_day: int, *, seed: int = 2026,
                survey_share: float = 0.2) -> dict[str, int]:
    """Write a month of tickets (and SKM responses) into a seeded store, in the core's shape."""
    rng = random.Random(seed)
    with store.read() as db:
        services = {r["id"]: {"standard_minutes": r["standard_minutes"], "tenant_id": r["tenant_id"],
                              "weight": 1 + (r["id"] * 7919) % 9} for r in db.conn.execute("SELECT * FROM services")}
        counters: dict[int, list[int]] = defaultdict(list)
        for r in db.conn.execute("SELECT counter_id, service_id FROM counter_services ORDER BY counter_id"):
            counters[r["service_id"]].append(r["counter_id"])
    steps, served = month_steps(services, counters, first, days, per_day, rng)
    steps.sort(key=lambda s: s[0])
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN IMMEDIATE")
    writer = Writer(conn)
    for step in steps:
        writer.apply(*step)
    ids = {key: t.row for key, t in writer.tickets.items()}
    n_tickets, n_events, n_audit = len(writer.tickets), len(writer.rows["events"]), len(writer.rows["audit"])
    writer.flush()
    surveys = []
    for key, counter in served:
        if rng.random() >= survey_share:
            continue
        t = ids[key]
        mood = rng.choice((2, 3, 3, 3, 4, 4))
        scores = [max(1, min(4, mood + rng.choice((-1, 0, 0, 0, 1)))) for _ in range(9)]
        finished = datetime.fromisoformat(t["finished_at"]) + timedelta(seconds=rng.uniform(20, 600))
        surveys.append((t["id"], services[t["origin_service_id"]]["tenant_id"], t["origin_service_id"], counter,
                        t["day"], *scores, "", rng.choice(("tracking", "tablet")), finished.isoformat()))
    conn.executemany("INSERT INTO surveys (ticket_id, tenant_id, service_id, counter_id, day, u1, u2, u3, u4, u5, "
                     "u6, u7, u8, u9, comment, channel, created_at) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", surveys)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return {"tickets": n_tickets, "events": n_events, "audit": n_audit, "surveys": len(surveys)}
