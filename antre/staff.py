"""Counter desks and staff log-ins: who works which counter, and log-in rate limiting.

Plain Python over :class:`~antre.queue.Queue` and its store (no Flask).

Holding a counter
-----------------
A staff member *takes* a counter before working it.  The table
``counter_sessions`` (migration 0300) allows one holder per counter and one
counter per holder.  Taking a counter somebody else holds is refused (409
``counter_taken``, naming the holder); a supervisor or an admin may release it;
logging out releases it.  A hold is void after :data:`HOLD_HOURS` (a staff
session lasts as long) or once its account is deactivated, so a browser closed
without logging out blocks a counter for one working day at most.
``counters.user_id`` mirrors the holder, for screens that only read counters.

:func:`install` adds :func:`check_holder` to the queue's counter guards: a clerk
(role ``counter``) logged in as a person may then act only on the counter they
hold, checked inside the action's own transaction, so a release and an action
can never cross.  Device tokens with role ``counter`` are not people: they hold
nothing and are not checked.  Supervisors and admins may act on any counter;
their actions are audited under their own names.

Log-in rate limiting
--------------------
Every failed log-in is stored (``login_failures``) with its client address and
the username tried.  Once, within the last :data:`LOGIN_WINDOW_SECONDS`, an
address has :data:`MAX_FAILURES_PER_IP` failures or a username has
:data:`MAX_FAILURES_PER_USERNAME`, further attempts are refused with HTTP 429
-- before any password is hashed -- until the oldest of those failures leaves
the window.  Being in SQLite, the count survives a restart and is shared by
every server process on the data dir.  It sits in front of the account lock-out
of :func:`antre.auth.check_login` (5 wrong passwords lock an account for 15
minutes): the lock-out protects one account; the rate limit stops one machine
from guessing across many names, unknown ones included, and bounds the scrypt
work an attacker can make the server do.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from antre import auth
from antre.queue import Actor, Queue
from antre.rules import Forbidden, Invalid, RuleError

HOLD_HOURS = 12
LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_IP = 20
MAX_FAILURES_PER_USERNAME = 10
STAFF_ROLES = ("admin", "supervisor", "counter")
SUPERVISING_ROLES = ("admin", "supervisor")


class TooManyAttempts(RuleError):
    """Log-in refused by the rate limit; ``details['retry_after']`` is in seconds."""

    status = 429


# --------------------------------------------------------------- log-in limits


def _username_key(username: Any) -> str:
    return (username if isinstance(username, str) else "").strip().lower()[:64]


def _ip_key(ip: str | None) -> str:
    return (ip or "unknown")[:64]


def _wait(db: sqlite_utils.Database, column: str, value: str, limit: int, now: float) -> float:
    """Seconds until ``value`` has fewer than ``limit`` failures in the window (0: now)."""
    row = db.conn.execute(
        f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",  # noqa: S608 - column is one of two constants
        (value, now - LOGIN_WINDOW_SECONDS, limit - 1),
    ).fetchone()
    return 0.0 if row is None else max(0.0, row[0] + LOGIN_WINDOW_SECONDS - now)


def login_retry_after(store: Any, ip: str | None, username: Any, now: float | None = None) -> float:
    """Seconds this address / username must wait before the next log-in attempt (0: may try now)."""
    now = time.time() if now is None else now
    with store.read() as db:
        return max(
            _wait(db, "ip", _ip_key(ip), MAX_FAILURES_PER_IP, now),
            _wait(db, "username", _username_key(username), MAX_FAILURES_PER_USERNAME, now),
        )


def record_login_failure(store: Any, ip: str | None, username: Any, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with store.write() as db:
        db.conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - LOGIN_WINDOW_SECONDS,))
        db.conn.execute(
            "INSERT INTO login_failures (at, ip, username) VALUES (?, ?, ?)",
            (now, _ip_key(ip), _username_key(username)),
        )


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def log_in(store: Any, username: Any, password: Any, ip: str | None, now: float | None = None) -> dict[str, Any]:
    """Check a staff log-in behind the rate limit; returns the user.

    Raises :class:`TooManyAttempts` (429), or :class:`RuleError` ``login_failed``
    / ``account_locked`` (409; the web layer shows them as a refused log-in).
    """
    now = time.time() if now is None else now
    wait = login_retry_after(store, ip, username, now)
    if wait > 0:
        minutes = _minutes(wait)
        raise TooManyAttempts(
            "too_many_attempts",
            f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit. "
            f"(Too many failed log-in attempts. Try again in {minutes} minutes.)",
            retry_after=math.ceil(wait),
        )
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64 or len(password) > 1024:
        record_login_failure(store, ip, username, now)
        raise RuleError("login_failed", "Nama pengguna atau kata sandi salah. (Wrong username or password.)")
    try:
        user = auth.check_login(store, username, password)
    except RuleError as exc:
        record_login_failure(store, ip, username, now)
        locked_for = _locked_seconds(store, username)
        if locked_for > 0:
            minutes = _minutes(locked_for)
            raise RuleError(
                "account_locked",
                f"Akun ini dikunci selama {minutes} menit karena kata sandi salah {auth.LOCK_AFTER} kali. "
                "Coba lagi nanti atau hubungi supervisor. "
                f"(This account is locked for {minutes} minutes after {auth.LOCK_AFTER} wrong passwords. "
                "Try again later or ask a supervisor.)",
            ) from exc
        raise
    with store.write() as db:
        db.conn.execute("DELETE FROM login_failures WHERE username = ?", (_username_key(username),))
    return user


def _locked_seconds(store: Any, username: str) -> float:
    with store.read() as db:
        row = db.conn.execute(
            "SELECT locked_until FROM users WHERE username = ? AND active = 1", (_username_key(username),)
        ).fetchone()
    if row is None or not row[0]:
        return 0.0
    return max(0.0, (datetime.fromisoformat(row[0]) - datetime.now(UTC)).total_seconds())


# --------------------------------------------------------------- counter holds

_HOLDS_SQL = (
    "SELECT cs.counter_id, cs.user_id, cs.taken_at, u.username, u.display_name, u.role, c.name AS counter_name "
    "FROM counter_sessions cs JOIN users u ON u.id = cs.user_id AND u.active = 1 "
    "JOIN counters c ON c.id = cs.counter_id WHERE cs.taken_at > ?"
)


def _now(queue: Queue) -> datetime:
    return queue.clock.now().astimezone(UTC)


def _cutoff(queue: Queue) -> str:
    return (_now(queue) - timedelta(hours=HOLD_HOURS)).isoformat()


def _person(name: str, display_name: str) -> str:
    return display_name or name


def _hold_view(queue: Queue, r: Any) -> dict[str, Any]:
    return {
        "counter_id": r["counter_id"],
        "counter_name": r["counter_name"],
        "user": {"id": r["user_id"], "username": r["username"], "display_name": _person(r["username"],
                                                                                          r["display_name"])},
        "taken_at": queue.local_iso(r["taken_at"]),
    }


def _hold_row(queue: Queue, db: sqlite_utils.Database, *, counter_id: int | None = None,
              user_id: int | None = None) -> Any:
    if counter_id is not None:
        return db.conn.execute(_HOLDS_SQL + " AND cs.counter_id = ?", (_cutoff(queue), counter_id)).fetchone()
    return db.conn.execute(_HOLDS_SQL + " AND cs.user_id = ?", (_cutoff(queue), user_id)).fetchone()


def _purge_void(queue: Queue, db: sqlite_utils.Database) -> None:
    """Drop holds that expired or whose account was deactivated."""
    void = [
        r[0] for r in db.conn.execute(
            "SELECT cs.counter_id FROM counter_sessions cs LEFT JOIN users u ON u.id = cs.user_id "
            "WHERE cs.taken_at <= ? OR u.active IS NOT 1", (_cutoff(queue),),
        )
    ]
    for counter_id in void:
        db.conn.execute("DELETE FROM counter_sessions WHERE counter_id = ?", (counter_id,))
        db.conn.execute("UPDATE counters SET user_id = NULL WHERE id = ?", (counter_id,))


def _staff_only(actor: Actor) -> int:
    if actor.user_id is None or actor.role not in STAFF_ROLES:
        raise Forbidden(
            "staff_only",
            "Hanya akun petugas yang dapat memegang loket. (Only a staff account can hold a counter.)",
        )
    return actor.user_id


def _counter_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (0 < value < 2**62):
        raise Invalid("invalid_counter_id", "counter_id harus bilangan bulat positif. (counter_id must be a positive "
                                            "integer.)")
    return value


def taken_message(hold: dict[str, Any]) -> str:
    who = hold["user"]["display_name"]
    name = hold["counter_name"]
    return (
        f"{name} sedang dipegang oleh {who}. Minta {who} melepasnya, atau minta supervisor. "
        f"({name} is held by {who}. Ask {who} to release it, or ask a supervisor.)"
    )


def take_counter(queue: Queue, counter_id: Any, actor: Actor) -> dict[str, Any]:
    """Hold a counter for the staff member ``actor``; returns the hold.

    Taking the counter one already holds is a no-op.  Taking another one
    releases the previous one, unless a ticket is still at that counter.
    """
    counter_id = _counter_id(counter_id)
    user_id = _staff_only(actor)

    def op(db: sqlite_utils.Database) -> dict[str, Any]:
        counter = queue._usable_counter(db, counter_id, actor, guards=False)  # the tenant rule
        _purge_void(queue, db)
        current = _hold_row(queue, db, counter_id=counter_id)
        if current is not None and current["user_id"] == user_id:
            return _hold_view(queue, current)
        if current is not None:
            hold = _hold_view(queue, current)
            raise RuleError("counter_taken", taken_message(hold), holder=hold["user"])
        previous = _hold_row(queue, db, user_id=user_id)
        now = _now(queue).isoformat()
        if previous is not None:
            ticket = db.conn.execute(
                "SELECT t.number FROM counters c JOIN tickets t ON t.id = c.current_ticket_id WHERE c.id = ?",
                (previous["counter_id"],),
            ).fetchone()
            if ticket is not None:
                old = previous["counter_name"]
                raise RuleError(
                    "counter_still_busy",
                    f"Anda masih memegang {old} dengan tiket {ticket[0]}. Selesaikan atau alihkan tiket itu dulu. "
                    f"(You still hold {old} with ticket {ticket[0]}. Finish or transfer it first.)",
                )
            _release(queue, db, previous, actor, now, "switched")
        db.conn.execute(
            "INSERT INTO counter_sessions (counter_id, user_id, taken_at) VALUES (?, ?, ?)",
            (counter_id, user_id, now),
        )
        db.conn.execute("UPDATE counters SET user_id = ? WHERE id = ?", (user_id, counter_id))
        queue.store.append_audit(db, actor=actor.label, device=actor.device, action="counter.taken",
                                 details={"counter_id": counter_id, "counter": counter["name"]}, at=now)
        row = _hold_row(queue, db, counter_id=counter_id)
        return _hold_view(queue, row)

    return queue.store.run_write(op)


def _release(queue: Queue, db: sqlite_utils.Database, row: Any, actor: Actor, now: str, reason: str) -> None:
    db.conn.execute("DELETE FROM counter_sessions WHERE counter_id = ?", (row["counter_id"],))
    db.conn.execute("UPDATE counters SET user_id = NULL WHERE id = ?", (row["counter_id"],))
    queue.store.append_audit(
        db, actor=actor.label, device=actor.device, action="counter.released", at=now,
        details={"counter_id": row["counter_id"], "holder": row["username"], "reason": reason,
                 "forced": row["user_id"] != actor.user_id},
    )


def release_counter(queue: Queue, counter_id: Any, actor: Actor) -> dict[str, Any] | None:
    """Release a counter: one's own, or -- for a supervisor or admin -- anyone's.

    Returns the hold that was released, or None when the counter was free.
    """
    counter_id = _counter_id(counter_id)

    def op(db: sqlite_utils.Database) -> dict[str, Any] | None:
        queue._counter(db, counter_id)  # 404 for an unknown counter
        _purge_void(queue, db)
        row = _hold_row(queue, db, counter_id=counter_id)
        if row is None:
            return None
        if row["user_id"] != actor.user_id and actor.role not in SUPERVISING_ROLES:
            hold = _hold_view(queue, row)
            raise Forbidden(
                "release_forbidden",
                f"Hanya supervisor yang dapat melepas loket yang dipegang {hold['user']['display_name']}. "
                f"(Only a supervisor can release a counter held by {hold['user']['display_name']}.)",
            )
        hold = _hold_view(queue, row)
        _release(queue, db, row, actor, _now(queue).isoformat(), "released")
        return hold

    return queue.store.run_write(op)


def release_all_of(queue: Queue, actor: Actor, reason: str = "logout") -> list[dict[str, Any]]:
    """Release whatever ``actor`` (a staff member) holds, e.g. on log-out."""
    if actor.user_id is None:
        return []

    def op(db: sqlite_utils.Database) -> list[dict[str, Any]]:
        rows = db.conn.execute(
            "SELECT cs.counter_id, cs.user_id, cs.taken_at, u.username, u.display_name, c.name AS counter_name "
            "FROM counter_sessions cs JOIN users u ON u.id = cs.user_id JOIN counters c ON c.id = cs.counter_id "
            "WHERE cs.user_id = ?", (actor.user_id,),
        ).fetchall()
        now = _now(queue).isoformat()
        for row in rows:
            _release(queue, db, row, actor, now, reason)
        return [_hold_view(queue, r) for r in rows]

    return queue.store.run_write(op)


def holds(queue: Queue) -> list[dict[str, Any]]:
    """Every valid hold, by counter."""
    with queue.store.read() as db:
        return [_hold_view(queue, r) for r in db.conn.execute(_HOLDS_SQL + " ORDER BY c.sort, c.id",
                                                               (_cutoff(queue),))]


def hold_of(queue: Queue, counter_id: int) -> dict[str, Any] | None:
    with queue.store.read() as db:
        row = _hold_row(queue, db, counter_id=counter_id)
        return None if row is None else _hold_view(queue, row)


def held_by(queue: Queue, user_id: int) -> dict[str, Any] | None:
    """The counter a staff member holds, if any."""
    with queue.store.read() as db:
        row = _hold_row(queue, db, user_id=user_id)
        return None if row is None else _hold_view(queue, row)


def check_holder(queue: Queue, db: sqlite_utils.Database, counter: dict[str, Any], actor: Actor) -> None:
    """Counter guard: a clerk logged in as a person acts only on the counter they hold."""
    if actor.user_id is None or actor.role != "counter":
        return
    row = _hold_row(queue, db, counter_id=counter["id"])
    if row is not None and row["user_id"] == actor.user_id:
        return
    if row is not None:
        hold = _hold_view(queue, row)
        raise RuleError("counter_taken", taken_message(hold), holder=hold["user"])
    raise RuleError(
        "counter_not_taken",
        f"Anda belum memegang {counter['name']}. Ambil loket ini dulu di halaman Loket. "
        f"(You do not hold {counter['name']}. Take this counter first on the Counter page.)",
    )


def install(queue: Queue) -> None:
    """Make every counter action of ``queue`` run :func:`check_holder` (once)."""
    if any(getattr(g, "antre_staff_guard", False) for g in queue.counter_guards):
        return

    def guard(db: sqlite_utils.Database, counter: dict[str, Any], actor: Actor) -> None:
        check_holder(queue, db, counter, actor)

    guard.antre_staff_guard = True  # type: ignore[attr-defined]
    queue.counter_guards.append(guard)


# ------------------------------------------------------------ what screens show


def desk(queue: Queue, counter_id: int, actor: Actor) -> dict[str, Any]:
    """A counter's holder and today's figures (served, no-shows, mean service time)."""
    with queue.store.read() as db:
        counter = queue._usable_counter(db, counter_id, actor, guards=False)
        row = _hold_row(queue, db, counter_id=counter_id)
        served = no_show = 0
        mean: float | None = None
        for status, count, avg in db.conn.execute(
            "SELECT status, COUNT(*), AVG(CASE WHEN called_at IS NOT NULL AND finished_at IS NOT NULL "
            "THEN (julianday(finished_at) - julianday(called_at)) * 86400.0 END) "
            "FROM tickets WHERE day = ? AND counter_id = ? AND status IN ('served', 'no_show') GROUP BY status",
            (queue.today(), counter_id),
        ):
            if status == "served":
                served, mean = count, (None if avg is None else round(max(0.0, avg), 1))
            else:
                no_show = count
        return {
            "counter_id": counter["id"],
            "name": counter["name"],
            "status": counter["status"],
            "pause_reason": counter["pause_reason"],
            "day": queue.today(),
            "holder": None if row is None else _hold_view(queue, row)["user"],
            "taken_at": None if row is None else queue.local_iso(row["taken_at"]),
            "served": served,
            "no_show": no_show,
            "service_mean_s": mean,
            "generated_at": queue.clock.now().isoformat(timespec="seconds"),
        }


def overview(queue: Queue, actor: Actor) -> list[dict[str, Any]]:
    """The counters ``actor`` may work, with their services, state and holder (the "take a counter" page)."""
    with queue.store.read() as db:
        tenants = {r["id"]: dict(r) for r in db.conn.execute("SELECT id, name_id, name_en FROM tenants")}
        services: dict[int, list[dict[str, Any]]] = {}
        for r in db.conn.execute(
            "SELECT cs.counter_id, s.id, s.code, s.name_id, s.name_en, s.tenant_id FROM counter_services cs "
            "JOIN services s ON s.id = cs.service_id ORDER BY s.sort, s.id"
        ):
            services.setdefault(r["counter_id"], []).append(dict(r))
        held = {r["counter_id"]: _hold_view(queue, r) for r in db.conn.execute(_HOLDS_SQL, (_cutoff(queue),))}
        out = []
        for c in db.conn.execute(
            "SELECT c.*, t.number, t.status AS ticket_status "
            "FROM counters c LEFT JOIN tickets t ON t.id = c.current_ticket_id ORDER BY c.sort, c.id"
        ):
            if not dict(c).get("active", 1):  # a retired counter (admin) leaves the lists
                continue
            mine = services.get(c["id"], [])
            tenant_ids = sorted({s["tenant_id"] for s in mine})
            if actor.tenant_id is not None and actor.tenant_id not in tenant_ids:
                continue
            hold = held.get(c["id"])
            out.append({
                "id": c["id"], "name": c["name"], "zone": c["zone"], "status": c["status"],
                "pause_reason": c["pause_reason"], "current_number": c["number"],
                "current_status": c["ticket_status"],
                "services": [{"id": s["id"], "code": s["code"], "name": s["name_id"], "name_en": s["name_en"]}
                             for s in mine],
                "tenants": [{"id": t, "name": tenants[t]["name_id"], "name_en": tenants[t]["name_en"]}
                            for t in tenant_ids if t in tenants],
                "holder": None if hold is None else hold["user"],
                "taken_at": None if hold is None else hold["taken_at"],
                "mine": hold is not None and hold["user"]["id"] == actor.user_id,
            })
        return out
