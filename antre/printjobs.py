"""The durable print spool of kiosk tickets (plain Python: no Flask, no printer code).

A ticket is committed by :mod:`antre.queue` first; only then is a print job
made for it here.  The job holds the ticket's rendered ESC/POS bytes and lives
in SQLite (table ``print_jobs``), so neither a crash nor a printer that is out
of paper loses it.

Two rules keep a ticket from ever being printed twice:

* one job per ticket (``UNIQUE (ticket_id)``): asking again gives the same job;
* ``sent_at`` is committed *before* the bytes go to the printer, and a job with
  ``sent_at`` set is never sent again: a failure after that point (paper ran
  out half-way, the printer went offline, the server died) ends the job as
  ``failed`` and the kiosk shows the ticket on screen instead.

The server's own print worker commits ``sent_at`` in the very transaction that
claims the job for sending (``send=True``): a tap then waits for no commit of
its own between the printer's status and the bytes.  ``sent_at`` so means "the
bytes may have gone out".  When the printer refused the job before anything
was sent (out of paper, offline), the worker knows it and reports the attempt
``unsent``: ``sent_at`` is cleared with the result and the job may be retried.
A server that dies between such a claim and the bytes leaves a job that may
or may not be on paper: it ends ``failed`` with an alert, never sent twice.

States::

    queued ──claim──▶ printing ──▶ printed
      ▲                  │
      │                  ├──▶ retrying ──(due)──▶ printing ...   (not sent, policy "retry")
      └──(holder died,   └──▶ failed                              (sent, or policy "drop",
          not sent)                                                 or attempts used up)

A job is printed either by the server's own print worker (``via_agent`` 0: the
server process *claims* it, atomically, so that several server processes on one
data dir never print the same job) or by the print agent on the kiosk's own Pi
(``via_agent`` 1: the agent lists the jobs of its kiosk, in order, and reports
each result; its local journal keeps it from printing one twice).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from antre.blocking import native_lock
from antre.clock import Clock
from antre.rules import Invalid, NotFound
from antre.store import Store

log = logging.getLogger("antre.printjobs")

STATES = ("queued", "printing", "printed", "failed", "retrying")
OPEN_STATES = ("queued", "printing", "retrying")
FINAL_STATES = ("printed", "failed")
#: outcomes of one print attempt (those of :class:`printing.worker.PrintWorker`)
OUTCOMES = ("printed", "paper_out", "offline", "timeout", "error")
#: the printer status an outcome tells
OUTCOME_STATUS = {"printed": "ok", "paper_out": "paper_out", "offline": "offline", "timeout": "unknown",
                  "error": "unknown"}
PRINTER_STATUSES = ("ok", "paper_low", "paper_out", "offline", "unknown")
PAPER_SIZES = (58, 80)
MAX_URI_CHARS = 300

#: the admin's setting naming each kiosk's printer: {"<token id>": URI, or AGENT for its print agent}
PRINTERS_SETTING = "printers"
AGENT = "agent"
#: print-policy settings (table ``settings``) and their defaults; the footer is the admin's ``ticket_footer``
POLICY_KEYS = {
    "print.on_failure": "retry",  # "retry" a job refused before sending, or "drop" it
    "print.max_attempts": 3,
    "print.retry_seconds": 15.0,
    "print.timeout_seconds": 5.0,
    "print.paper_mm": 80,
    "print.agent_offline_seconds": 30.0,
    "ticket_footer": "",
}

_LIVE_HOLDERS: set[str] = set()
_LIVE_LOCK = threading.Lock()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class PrintPolicy:
    """What to do when printing fails, and the printing defaults."""

    on_failure: str = "retry"
    max_attempts: int = 3
    retry_seconds: float = 15.0
    timeout_seconds: float = 5.0
    paper_mm: int = 80
    footer: str = ""
    agent_offline_seconds: float = 30.0

    @classmethod
    def from_settings(cls, get: Callable[[str, Any], Any]) -> PrintPolicy:
        """Read the policy; a value of the wrong shape falls back to its default (and is logged)."""
        default = cls()

        def number(key: str, fallback: float, low: float, high: float) -> float:
            value = get(key, fallback)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                log.warning("setting %s=%r is invalid; using %r", key, value, fallback)
                return fallback
            return value

        on_failure = get("print.on_failure", default.on_failure)
        if on_failure not in ("retry", "drop"):
            log.warning("setting print.on_failure=%r is invalid; using 'retry'", on_failure)
            on_failure = "retry"
        paper = get("print.paper_mm", default.paper_mm)
        if paper not in PAPER_SIZES:
            paper = default.paper_mm
        footer = get("ticket_footer", "")
        return cls(
            on_failure=on_failure,
            max_attempts=int(number("print.max_attempts", default.max_attempts, 1, 100)),
            retry_seconds=float(number("print.retry_seconds", default.retry_seconds, 1, 3600)),
            timeout_seconds=float(number("print.timeout_seconds", default.timeout_seconds, 0.5, 60)),
            paper_mm=int(paper),
            footer=footer if isinstance(footer, str) else "",
            agent_offline_seconds=float(number("print.agent_offline_seconds", default.agent_offline_seconds, 5,
                                               3600)),
        )


@dataclass(frozen=True)
class KioskPrinter:
    """Where one kiosk's tickets are printed."""

    token_id: int | None
    printer_uri: str | None  # None: the server's default printer
    via_agent: bool
    paper_mm: int | None  # None: the policy's paper size
    agent_seen_at: str | None = None
    agent_printer_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ResultChange:
    """What recording one print result did."""

    job: dict[str, Any]
    changed: bool  # False: the job had already ended (a repeated report)
    alert: bool = False  # staff should hear about the printer
    fallback: bool = False  # the kiosk should show the ticket on screen
    will_retry: bool = False


def validate_printer_uri(uri: Any) -> str | None:
    """A printer URI as stored (None: use the default); its syntax is checked by the printing package."""
    if uri is None or uri == "":
        return None
    if not isinstance(uri, str) or len(uri) > MAX_URI_CHARS or any(ord(c) < 32 for c in uri):
        raise Invalid("invalid_printer_uri", "Alamat printer tidak sah. (Invalid printer URI.)")
    return uri.strip()


def new_holder() -> str:
    """An id for one spool user (one server process): ``host:pid:nonce``."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    with _LIVE_LOCK:
        _LIVE_HOLDERS.add(holder)
    return holder


def holder_alive(holder: str | None, claimed_at: str | None, now: datetime) -> bool:
    """Whether the process that claimed a job may still be printing it.

    Processes sharing a data dir run on one machine (SQLite is not shared over
    a network): a holder of this machine is alive while its pid is.  Anything
    else is trusted for two minutes after its claim.
    """
    if not holder:
        return False
    parts = holder.rsplit(":", 2)
    host, pid_text = (parts[0], parts[1]) if len(parts) == 3 else ("", "")
    if host == socket.gethostname() and pid_text.isdigit() and os.name == "posix":
        pid = int(pid_text)
        if pid == os.getpid():
            with _LIVE_LOCK:
                return holder in _LIVE_HOLDERS
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if claimed_at is None:
        return False
    return datetime.fromisoformat(claimed_at) > now - timedelta(minutes=2)


def _settings(db: sqlite_utils.Database, keys: Any) -> dict[str, Any]:
    """Several settings in one query (absent keys are left out; values are JSON)."""
    rows = db.conn.execute("SELECT key, value FROM settings WHERE key IN (SELECT value FROM json_each(?))",
                           (json.dumps(list(keys)),))
    return {key: json.loads(value) for key, value in rows}


def _job(row: Any, *, with_data: bool = False) -> dict[str, Any]:
    job = dict(row)
    data = job.pop("data", None)
    job["via_agent"] = bool(job["via_agent"])
    if with_data:
        job["data"] = bytes(data or b"")
    return job


class PrintSpool:
    """The print jobs of one data dir.  Every method is blocking (SQLite): call it off the event loop."""

    def __init__(self, store: Store, clock: Clock | None = None, holder: str | None = None) -> None:
        self.store = store
        self.clock = clock or Clock()
        self.holder = holder or new_holder()

    def close(self) -> None:
        with _LIVE_LOCK:
            _LIVE_HOLDERS.discard(self.holder)

    # ----------------------------------------------------------------- helpers

    def _now(self) -> datetime:
        return self.clock.now()

    def today(self) -> str:
        return self.clock.today().isoformat()

    @staticmethod
    def _row(db: sqlite_utils.Database, job_id: int) -> Any:
        row = db.conn.execute("SELECT * FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound("print_job_not_found", f"Tugas cetak {job_id} tidak ada. (Print job not found.)")
        return row

    def policy(self) -> PrintPolicy:
        with self.store.read() as db:
            return self._policy(db)

    def _policy(self, db: sqlite_utils.Database, settings: dict[str, Any] | None = None) -> PrintPolicy:
        values = settings if settings is not None else _settings(db, POLICY_KEYS)
        return PrintPolicy.from_settings(values.get)

    # ---------------------------------------------------------------- settings

    def kiosk_printer(self, token_id: int | None) -> KioskPrinter:
        """Where a kiosk prints: the admin's ``printers`` setting (a URI, or ``agent``), else the default."""
        with self.store.read() as db:
            return self._kiosk_printer(db, token_id)

    def kiosk_and_policy_in(self, db: sqlite_utils.Database,
                            token_id: int | None) -> tuple[KioskPrinter, PrintPolicy]:
        """Both, from an open read: every setting they need in one query."""
        settings = _settings(db, (*POLICY_KEYS, PRINTERS_SETTING))
        return self._kiosk_printer(db, token_id, settings), self._policy(db, settings)

    def _kiosk_printer(self, db: sqlite_utils.Database, token_id: int | None,
                       settings: dict[str, Any] | None = None) -> KioskPrinter:
        if token_id is None:
            return KioskPrinter(None, None, False, None)
        if settings is None:
            settings = _settings(db, (PRINTERS_SETTING,))
        printers = settings.get(PRINTERS_SETTING, {})
        row = db.conn.execute("SELECT * FROM kiosk_printers WHERE token_id = ?", (token_id,)).fetchone()
        uri = printers.get(str(token_id)) if isinstance(printers, dict) else None
        uri = uri.strip() if isinstance(uri, str) and uri.strip() else None
        via_agent = uri == AGENT
        return KioskPrinter(
            token_id, None if via_agent else uri, via_agent, row["paper_mm"] if row else None,
            row["agent_seen_at"] if row else None, row["agent_printer_status"] if row else None,
        )

    def set_kiosk_printer(self, token_id: int, *, printer_uri: str | None, via_agent: bool,
                          paper_mm: int | None = None, actor: str = "admin") -> KioskPrinter:
        """Give a kiosk its own printer (None: the default), or hand its jobs to its print agent.

        Writes the admin's ``printers`` setting (the one source of truth) and
        the kiosk's paper width, with an audit row, in one transaction.
        """
        printer_uri = validate_printer_uri(printer_uri)
        if not isinstance(via_agent, bool):
            raise Invalid("invalid_print_via_agent", "print_via_agent harus true/false. (Must be a boolean.)")
        if paper_mm is not None and (isinstance(paper_mm, bool) or paper_mm not in PAPER_SIZES):
            raise Invalid("invalid_paper_mm", "paper_mm harus 58 atau 80. (paper_mm must be 58 or 80.)")
        now = _utc(self._now())
        with self.store.write() as db:
            token = db.conn.execute("SELECT role FROM tokens WHERE id = ? AND revoked_at IS NULL",
                                    (token_id,)).fetchone()
            if token is None or token["role"] != "kiosk":
                raise NotFound("kiosk_not_found", "Token kios tidak ditemukan. (Kiosk token not found.)")
            printers = self.store.get_setting(db, PRINTERS_SETTING, {})
            printers = dict(printers) if isinstance(printers, dict) else {}
            value = AGENT if via_agent else printer_uri
            if value:
                printers[str(token_id)] = value
            else:
                printers.pop(str(token_id), None)
            self.store.set_setting(db, PRINTERS_SETTING, dict(sorted(printers.items(), key=lambda kv: int(kv[0]))))
            db.conn.execute(
                "INSERT INTO kiosk_printers (token_id, paper_mm, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (token_id) DO UPDATE SET paper_mm = excluded.paper_mm, updated_at = excluded.updated_at",
                (token_id, paper_mm, now),
            )
            self.store.append_audit(db, actor=actor, action="kiosk.printer_set", at=now, details={
                "token_id": token_id, "printer": value, "paper_mm": paper_mm,
            })
        return self.kiosk_printer(token_id)

    def agent_seen(self, token_id: int, printer_status: str | None = None) -> None:
        """The print agent of a kiosk checked in (each poll)."""
        if printer_status is not None and printer_status not in PRINTER_STATUSES:
            raise Invalid("invalid_printer_status", "Status printer tidak dikenal. (Unknown printer status.)")
        with self.store.write() as db:
            db.conn.execute(
                "INSERT INTO kiosk_printers (token_id, agent_seen_at, agent_printer_status) VALUES (?, ?, ?) "
                "ON CONFLICT (token_id) DO UPDATE SET agent_seen_at = excluded.agent_seen_at, "
                "agent_printer_status = COALESCE(excluded.agent_printer_status, agent_printer_status)",
                (token_id, _utc(self._now()), printer_status),
            )

    def agent_online(self, kiosk: KioskPrinter, policy: PrintPolicy) -> bool:
        if kiosk.agent_seen_at is None:
            return False
        seen = datetime.fromisoformat(kiosk.agent_seen_at)
        return seen > self._now() - timedelta(seconds=policy.agent_offline_seconds)

    # -------------------------------------------------------------------- jobs

    def create(self, ticket_id: int, number: str, data: bytes, *, kiosk_token_id: int | None,
               kiosk_name: str = "", printer_uri: str | None, via_agent: bool,
               claim: bool = False, send: bool = False) -> tuple[dict[str, Any], bool]:
        """The print job of a ticket: made now (True), or the one it already has (False).

        With ``claim`` a new job is claimed by this holder at once (state
        ``printing``): the caller hands it to its print worker.  With ``send``
        too, the claim also commits ``sent_at`` (see the module docstring).
        """
        if not data:
            raise ValueError("a print job needs bytes to print")
        if not via_agent and not printer_uri:
            raise ValueError("a server-side print job needs a printer URI")
        now = _utc(self._now())
        today = self.today()

        def op(db: sqlite_utils.Database) -> tuple[dict[str, Any], bool]:
            existing = db.conn.execute("SELECT * FROM print_jobs WHERE ticket_id = ?", (ticket_id,)).fetchone()
            if existing is not None:
                return _job(existing), False
            claimed = claim and not via_agent
            row = db.conn.execute(
                "INSERT INTO print_jobs (ticket_id, day, number, kiosk_token_id, kiosk_name, printer_uri, via_agent, "
                "data, state, created_at, updated_at, claimed_by, claimed_at, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (ticket_id, today, number, kiosk_token_id, kiosk_name[:80], printer_uri, int(via_agent),
                 bytes(data), "printing" if claimed else "queued", now, now,
                 self.holder if claimed else None, now if claimed else None, now if claimed and send else None),
            ).fetchone()
            return _job(row), True

        return self.store.run_write(op)

    def get(self, job_id: int, *, with_data: bool = False) -> dict[str, Any]:
        with self.store.read() as db:
            return _job(self._row(db, job_id), with_data=with_data)

    def by_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        with self.store.read() as db:
            row = db.conn.execute("SELECT * FROM print_jobs WHERE ticket_id = ?", (ticket_id,)).fetchone()
            return None if row is None else _job(row)

    def list_jobs(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        if state is not None and state not in STATES:
            raise Invalid("invalid_state", f"state harus salah satu dari {', '.join(STATES)}.")
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT * FROM print_jobs WHERE (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?",
                (state, state, limit),
            ).fetchall()
        return [_job(r) for r in rows]

    def mark_sent(self, job_id: int) -> bool:
        """Record, durably, that the job's bytes are about to reach the printer.  False if already recorded."""
        now = _utc(self._now())

        def op(db: sqlite_utils.Database) -> bool:
            cur = db.conn.execute(
                "UPDATE print_jobs SET sent_at = ?, updated_at = ? WHERE id = ? AND sent_at IS NULL",
                (now, now, job_id),
            )
            return cur.rowcount == 1

        return self.store.run_write(op)  # group commit: one fsync with the taps of other kiosks

    def sent_ids(self, days: int = 2) -> set[int]:
        """Jobs whose bytes were handed to a printer (recent days): never to be sent again."""
        since = (self.clock.today() - timedelta(days=days)).isoformat()
        with self.store.read() as db:
            return {r[0] for r in db.conn.execute(
                "SELECT id FROM print_jobs WHERE sent_at IS NOT NULL AND day >= ?", (since,))}

    def record_result(self, job_id: int, outcome: str, detail: str = "", *, sent: bool | None = None,
                      actor: str = "system:antre", printer_status: str | None = None,
                      unsent: bool = False) -> ResultChange:
        """Record the outcome of one print attempt and decide what comes next.

        ``sent`` says whether the bytes reached the printer (None: as recorded
        by :meth:`mark_sent` or a ``send`` claim).  ``unsent``: this process's
        worker claimed the job with ``send`` and knows that nothing went out
        (the printer refused it first): the claim's ``sent_at`` is withdrawn.
        A report for a job that has already ended changes nothing (``changed``
        False): reports may be repeated.
        """
        if outcome not in OUTCOMES:
            raise Invalid("invalid_outcome", f"outcome harus salah satu dari {', '.join(OUTCOMES)}.")
        if printer_status is not None and printer_status not in PRINTER_STATUSES:
            raise Invalid("invalid_printer_status", "Status printer tidak dikenal. (Unknown printer status.)")
        detail = (detail or "")[:500]
        now_dt = self._now()
        now = _utc(now_dt)

        def op(db: sqlite_utils.Database) -> ResultChange:
            row = self._row(db, job_id)
            if row["state"] in FINAL_STATES:
                return ResultChange(_job(row), changed=False)
            policy = self._policy(db)
            withdraw = (unsent and not sent and outcome != "printed" and row["claimed_by"] == self.holder
                        and not row["via_agent"])
            was_sent = bool(sent) or (row["sent_at"] is not None and not withdraw)
            attempts = row["attempts"] + 1
            status = printer_status or OUTCOME_STATUS[outcome]
            if outcome == "printed" and "paper low" in detail.lower():
                status = "paper_low"
            change = ResultChange({}, changed=True)
            if outcome == "printed":
                state, next_at, finished = "printed", None, now
                change.alert = status == "paper_low"
            else:
                change.alert = change.fallback = True
                if was_sent:
                    # The bytes may be on paper: never send them again.
                    state, next_at, finished = "failed", None, now
                elif policy.on_failure == "retry" and attempts < policy.max_attempts:
                    state, finished = "retrying", None
                    next_at = _utc(now_dt + timedelta(seconds=policy.retry_seconds))
                    change.will_retry = True
                else:
                    state, next_at, finished = "failed", None, now
            updated = db.conn.execute(
                "UPDATE print_jobs SET state = ?, attempts = ?, last_outcome = ?, last_status = ?, last_detail = ?, "
                "updated_at = ?, next_attempt_at = ?, finished_at = ?, claimed_by = NULL, "
                "sent_at = CASE WHEN ? THEN NULL WHEN sent_at IS NULL AND ? THEN ? ELSE sent_at END WHERE id = ? "
                "RETURNING *",
                (state, attempts, outcome, status, detail, now, next_at, finished, int(withdraw), int(bool(sent)), now,
                 job_id),
            ).fetchone()
            if outcome != "printed":
                self.store.append_audit(
                    db, actor=actor, action="printer.alert", device=row["kiosk_name"] or None,
                    ticket_id=row["ticket_id"], at=now, details={
                        "job_id": job_id, "number": row["number"], "kiosk_token_id": row["kiosk_token_id"],
                        "printer_uri": row["printer_uri"], "via_agent": bool(row["via_agent"]),
                        "outcome": outcome, "status": status, "detail": detail, "attempt": attempts,
                        "sent": was_sent, "next_state": state,
                    },
                )
            change.job = _job(updated)
            return change

        return self.store.run_write(op)

    def audit_alert(self, job: dict[str, Any], outcome: str, detail: str, actor: str = "system:antre") -> None:
        """An audit row for a printer problem that is not one attempt's result (an absent print agent)."""
        now = _utc(self._now())
        with self.store.write() as db:
            self.store.append_audit(db, actor=actor, action="printer.alert", device=job["kiosk_name"] or None,
                                    ticket_id=job["ticket_id"], at=now, details={
                                        "job_id": job["id"], "number": job["number"],
                                        "kiosk_token_id": job["kiosk_token_id"], "via_agent": job["via_agent"],
                                        "outcome": outcome, "detail": detail, "next_state": job["state"]})

    def claim(self, job_id: int, *, send: bool = False) -> dict[str, Any] | None:
        """Claim one open, never-sent server-side job for this holder (None if someone else has it).

        ``send``: the claim also commits ``sent_at`` (see :meth:`create`).
        """
        now = _utc(self._now())
        with self.store.write() as db:
            cur = db.conn.execute(
                "UPDATE print_jobs SET state = 'printing', claimed_by = ?, claimed_at = ?, updated_at = ?, "
                "sent_at = ? WHERE id = ? AND via_agent = 0 AND sent_at IS NULL AND state IN ('queued', 'retrying')",
                (self.holder, now, now, now if send else None, job_id),
            )
            if cur.rowcount != 1:
                return None
            return _job(self._row(db, job_id), with_data=True)

    def claim_due(self, limit: int = 20, *, send: bool = False) -> list[dict[str, Any]]:
        """Claim the server-side jobs that may be (re)printed now, oldest first (with their bytes).

        ``send``: the claims also commit ``sent_at`` (see :meth:`create`).
        """
        now = _utc(self._now())
        with self.store.read() as db:  # the common case, nothing due, takes no write lock
            due = db.conn.execute(
                "SELECT 1 FROM print_jobs WHERE via_agent = 0 AND sent_at IS NULL AND day = ? AND "
                "(state = 'queued' OR (state = 'retrying' AND next_attempt_at <= ?)) LIMIT 1",
                (self.today(), now),
            ).fetchone()
        if due is None:
            return []
        with self.store.write() as db:
            ids = [r[0] for r in db.conn.execute(
                "SELECT id FROM print_jobs WHERE via_agent = 0 AND sent_at IS NULL AND day = ? AND "
                "(state = 'queued' OR (state = 'retrying' AND next_attempt_at <= ?)) ORDER BY id LIMIT ?",
                (self.today(), now, limit),
            )]
            jobs = []
            for job_id in ids:
                db.conn.execute(
                    "UPDATE print_jobs SET state = 'printing', claimed_by = ?, claimed_at = ?, updated_at = ?, "
                    "sent_at = ? WHERE id = ?", (self.holder, now, now, now if send else None, job_id),
                )
                jobs.append(_job(self._row(db, job_id), with_data=True))
            return jobs

    def recover(self) -> list[ResultChange]:
        """Settle jobs left ``printing`` by a server process that is gone, and jobs of past days.

        Never sent: back to ``queued`` (printed by the next claim).  Sent: the
        ticket may be on paper, so the job ends ``failed`` and is not sent again.
        A job of an earlier day is never printed (its ticket was closed with the day).
        """
        now_dt = self._now()
        now = _utc(now_dt)
        changes: list[ResultChange] = []
        with self.store.write() as db:
            stale = db.conn.execute(
                "SELECT * FROM print_jobs WHERE state = 'printing' AND via_agent = 0 ORDER BY id"
            ).fetchall()
            for row in stale:
                if row["claimed_by"] == self.holder or holder_alive(row["claimed_by"], row["claimed_at"], now_dt):
                    continue
                if row["sent_at"] is None:
                    db.conn.execute(
                        "UPDATE print_jobs SET state = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = ? "
                        "WHERE id = ?", (now, row["id"]),
                    )
                    continue
                detail = "the server stopped while printing; the ticket may have printed, so it is not sent again"
                db.conn.execute(
                    "UPDATE print_jobs SET state = 'failed', last_outcome = 'error', last_status = 'unknown', "
                    "last_detail = ?, updated_at = ?, finished_at = ?, claimed_by = NULL WHERE id = ?",
                    (detail, now, now, row["id"]),
                )
                self.store.append_audit(db, actor="system:antre", action="printer.alert", ticket_id=row["ticket_id"],
                                        device=row["kiosk_name"] or None, at=now, details={
                                            "job_id": row["id"], "number": row["number"], "outcome": "error",
                                            "detail": detail, "next_state": "failed", "sent": True})
                changes.append(ResultChange(_job(self._row(db, row["id"])), changed=True, alert=True))
            old = db.conn.execute(
                "SELECT id FROM print_jobs WHERE state IN ('queued', 'printing', 'retrying') AND day < ?",
                (self.today(),),
            ).fetchall()
            for (job_id,) in old:
                db.conn.execute(
                    "UPDATE print_jobs SET state = 'failed', last_detail = 'expired: the day of its ticket is over', "
                    "updated_at = ?, finished_at = ?, claimed_by = NULL WHERE id = ?", (now, now, job_id),
                )
        return changes

    def agent_jobs(self, token_id: int, limit: int = 20) -> list[dict[str, Any]]:
        """The jobs a kiosk's print agent should print now, in order (with their bytes).

        A job waiting for its retry holds back the jobs after it: the agent
        prints its kiosk's tickets in the order they were issued.
        """
        now = _utc(self._now())
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT * FROM print_jobs WHERE via_agent = 1 AND kiosk_token_id = ? AND day = ? "
                "AND state IN ('queued', 'printing', 'retrying') ORDER BY id LIMIT ?",
                (token_id, self.today(), limit),
            ).fetchall()
        jobs = []
        for row in rows:
            if row["state"] == "retrying" and (row["next_attempt_at"] or "") > now:
                break
            jobs.append(_job(row, with_data=True))
        return jobs

    def counts(self) -> dict[str, int]:
        with self.store.read() as db:
            return {r[0]: r[1] for r in db.conn.execute("SELECT state, COUNT(*) FROM print_jobs GROUP BY state")}


class DurableSentIds:
    """The "already sent" memory of a :class:`printing.worker.PrintWorker`, kept in the spool.

    ``add`` commits ``sent_at`` before it returns, and the worker calls it just
    before the bytes are written: after a crash the job is known as sent.
    Job ids are the spool's ids as strings.  (The server's kiosk printing needs
    no such commit of its own: it claims jobs with ``send=True``.)
    """

    def __init__(self, spool: PrintSpool) -> None:
        self.spool = spool
        self._ids = {str(i) for i in spool.sent_ids()}
        self._lock = native_lock()  # taken by the lane (a greenlet) and by its device thread

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids

    def add(self, job_id: str) -> None:
        """Keep ``job_id``; returns once ``sent_at`` is committed.

        The print worker calls this in a printer's device thread (a real OS
        thread, see :class:`printing.worker.IdMemory`), so the commit runs
        there directly, with no hand-off before the bytes go out.
        """
        with self._lock:
            self._ids.add(job_id)
        try:
            self.spool.mark_sent(int(job_id))
        except Exception:  # noqa: BLE001 - the in-memory record still stops a second send in this process
            log.exception("could not record print job %s as sent", job_id)

