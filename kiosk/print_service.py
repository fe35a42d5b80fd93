"""Kiosk ticket printing: from an issued ticket to bytes at a printer, off the request path.

* After ``POST /api/v1/tickets`` (or a booking check-in) answered 201 to a kiosk,
  :meth:`KioskPrinting.ticket_issued` renders the ticket to ESC/POS and makes its
  durable print job (:mod:`antre.printjobs`) *before* the answer leaves: the
  ticket was committed first, the job second, so neither is ever lost.
* A kiosk whose jobs are printed by the server: the job is claimed and handed
  to :class:`printing.worker.PrintWorker` (one lane per printer; status read
  before and after; every device call bounded by a timeout).  The claim
  commits ``sent_at`` with the job itself (see :mod:`antre.printjobs`), so the
  tap waits for two commits in all (its ticket, its job), none between the
  printer's status and the bytes.  A kiosk with a
  print agent on its own Pi: the agent is nudged over Socket.IO
  (``print:pending`` in the kiosk's room) and fetches the job over REST.
* Every result goes to the kiosk's own room as ``print:result``; a failure also
  to staff as ``printer:alert`` (and the spool writes the audit row).  The page
  then shows the ticket large on screen with its QR code.
* A background loop retries what the policy says to retry and settles jobs a
  dead process left behind.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, request

from antre.blocking import call_blocking, sleep, spawn
from antre.printjobs import KioskPrinter, PrintPolicy, PrintSpool, ResultChange
from web.context import Antre

log = logging.getLogger("antre.kiosk.print")

TICKET_ENDPOINTS = ("api.issue_ticket", "api.check_in")
RETRY_POLL_SECONDS = 1.0
RECOVER_EVERY_SECONDS = 30.0
ALERT_REPEAT_SECONDS = 60.0
ADMIN_PRINT_HEADER = "X-Antre-Kiosk"


def kiosk_room(token_id: int | None) -> str:
    """The Socket.IO room of one kiosk: ``token:ID``, which every socket of a device token joins
    (its pages and its print agent); ``staff`` for a staff member's kiosk page."""
    return f"token:{token_id}" if token_id is not None else "staff"


def public_job(job: dict[str, Any]) -> dict[str, Any]:
    """A print job as the API and the events show it (no bytes)."""
    return {k: job.get(k) for k in (
        "id", "ticket_id", "number", "kiosk_token_id", "kiosk_name", "printer_uri", "via_agent", "state",
        "attempts", "last_outcome", "last_status", "last_detail", "created_at", "updated_at", "sent_at",
        "next_attempt_at", "finished_at",
    )}


def ticket_print_content(app_antre: Antre, db: Any, ticket: dict[str, Any], footer: str) -> Any:
    """What the ticket says (a :class:`printing.ticket.TicketPrint`), read from an open transaction."""
    from printing.ticket import TicketPrint

    row = db.conn.execute(
        "SELECT t.lang, t.priority, s.id AS sid, s.name_id AS s_id, s.name_en AS s_en, "
        "te.name_id AS t_id, te.name_en AS t_en, "
        "(SELECT value FROM settings WHERE key = 'mpp_name') AS mpp_name "
        "FROM tickets t JOIN services s ON s.id = t.service_id "
        "JOIN tenants te ON te.id = s.tenant_id WHERE t.id = ?", (ticket["id"],),
    ).fetchone()
    counters = [r[0] for r in db.conn.execute(
        "SELECT c.name FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
        "WHERE cs.service_id = ? ORDER BY c.sort, c.id", (row["sid"],),
    )]
    mpp_name = json.loads(row["mpp_name"]) if row["mpp_name"] is not None else "Mal Pelayanan Publik"
    lang = row["lang"] if row["lang"] in ("id", "en") else "id"
    return TicketPrint(
        mpp_name=str(mpp_name),
        tenant_name=row["t_id"] if lang == "id" else row["t_en"],
        service_name=row["s_id"] if lang == "id" else row["s_en"],
        number=ticket["number"],
        people_ahead=int(ticket.get("position") or 0),
        eta_minutes=ticket.get("eta_minutes"),
        issued_at=datetime.fromisoformat(ticket["issued_at"]),
        counters=counters,
        track_url=ticket["track_url"],
        footer=footer,
        lang=lang,
        priority=bool(row["priority"]),
        time_zone=app_antre.settings.tz,
    )


class KioskPrinting:
    """The kiosk printing of one server process (see the module docstring)."""

    def __init__(self, app_antre: Antre) -> None:
        self.antre = app_antre
        self.spool = PrintSpool(app_antre.store, app_antre.clock)
        self._worker: Any = None
        self._last_alert: dict[str, float] = {}

    # ------------------------------------------------------------------ worker

    @property
    def worker(self) -> Any:
        """The server's print worker, made on first use (after gevent's patching)."""
        if self._worker is None:
            from printing.worker import PrintWorker

            policy = call_blocking(self.spool.policy)
            # The durable "sent" mark is the spool's claim (``send=True``: sent_at is committed with it);
            # the worker's own memory of sent ids stops a second send within this process.
            self._worker = PrintWorker(self._on_worker_result, timeout=policy.timeout_seconds)
        return self._worker

    def stop(self, timeout: float = 5.0) -> None:
        if self._worker is not None:
            self._worker.stop(timeout, drain=False)
        self.spool.close()

    # ------------------------------------------------------------ new tickets

    def after_request(self, response: Response) -> Response:
        """Make the print job of a ticket a kiosk just took (Flask ``after_request``)."""
        if request.endpoint not in TICKET_ENDPOINTS or response.status_code != 201:
            return response
        principal = g.get("principal")
        if principal is None:
            return response
        if principal.role == "kiosk":
            kiosk_id, kiosk_name = principal.id, principal.name
        elif principal.role in ("admin", "supervisor") and request.headers.get(ADMIN_PRINT_HEADER) == "1":
            kiosk_id, kiosk_name = None, f"{principal.role}:{principal.name}"
        else:
            return response  # an integration issuing tickets prints nothing
        ticket = response.get_json(silent=True)
        if not isinstance(ticket, dict) or "id" not in ticket:
            return response
        try:
            job = self.ticket_issued(ticket, kiosk_id, kiosk_name)
            response.headers["X-Antre-Print-Job"] = str(job["id"])
        except Exception:  # noqa: BLE001 - the ticket is committed and answered; the page falls back on screen
            log.exception("could not make the print job of ticket %s", ticket.get("id"))
        return response

    def ticket_issued(self, ticket: dict[str, Any], kiosk_id: int | None, kiosk_name: str) -> dict[str, Any]:
        job, created, kiosk, policy = call_blocking(self._make_job, ticket, kiosk_id, kiosk_name)
        if created:
            self.dispatch(job, kiosk, policy)
        return job

    def _make_job(self, ticket: dict[str, Any], kiosk_id: int | None,
                  kiosk_name: str) -> tuple[dict[str, Any], bool, KioskPrinter, PrintPolicy]:
        """Read, render and store the job in one pool call (the tap waits for it): returns it with its bytes.

        One read transaction gives the kiosk's printer, the policy and what
        the ticket says; the bytes are rendered outside any transaction; one
        group-committed write stores the job, claimed for this process's worker.
        """
        from printing.ticket import render_ticket

        with self.antre.store.read() as db:
            kiosk, policy = self.spool.kiosk_and_policy_in(db, kiosk_id)
            content = ticket_print_content(self.antre, db, ticket, policy.footer)
        data = render_ticket(content, kiosk.paper_mm or policy.paper_mm)
        printer_uri = None if kiosk.via_agent else (kiosk.printer_uri or self.antre.settings.printer)
        job, created = self.spool.create(
            ticket["id"], ticket["number"], data, kiosk_token_id=kiosk_id, kiosk_name=kiosk_name,
            printer_uri=printer_uri, via_agent=kiosk.via_agent, claim=not kiosk.via_agent, send=True,
        )
        if created:
            job["data"] = data
        return job, created, kiosk, policy

    def dispatch(self, job: dict[str, Any], kiosk: KioskPrinter, policy: PrintPolicy) -> None:
        """Hand a new job to the server's worker, or tell the kiosk's agent."""
        if job["via_agent"]:
            self.emit("print:pending", {"job_id": job["id"], "ticket_id": job["ticket_id"]},
                      kiosk_room(job["kiosk_token_id"]))
            if not call_blocking(self.spool.agent_online, kiosk, policy):
                self._agent_offline(job)
            return
        if job["state"] != "printing":
            return  # not claimed here: the retry loop claims it
        self._submit(job)
        # Let the printer's lane hand the job to its device thread before this greenlet goes on
        # to write the answer: the printer then works while the answer is sent, not after it.
        sleep(0)

    def _submit(self, job: dict[str, Any]) -> None:
        from printing.worker import PrintJob

        try:
            accepted = self.worker.submit(PrintJob(str(job["id"]), job["printer_uri"], job["data"]))
        except Exception as exc:  # noqa: BLE001 - a bad URI or a stopped worker: record it, show the fallback
            log.exception("print job %s could not be queued", job["id"])
            self._on_worker_result(str(job["id"]), "error", f"{type(exc).__name__}: {exc}")
            return
        if not accepted:
            log.warning("print job %s is already queued or was sent before; not queued again", job["id"])

    # ----------------------------------------------------------------- results

    def _on_worker_result(self, job_id: str, outcome: str, detail: str) -> None:
        """PrintWorker's callback (from its lane).

        A job the worker never started sending (the printer refused it first)
        is reported ``unsent``: its claim's ``sent_at`` is withdrawn, so it may
        be retried.
        """
        unsent = self._worker is None or not self._worker.was_sent(job_id)
        try:
            change = call_blocking(self.spool.record_result, int(job_id), outcome, detail, unsent=unsent)
        except Exception:  # noqa: BLE001 - the job stays 'printing'; recovery settles it
            log.exception("could not record the result of print job %s", job_id)
            return
        self.publish(change)

    def agent_result(self, token_id: int, job_id: int, outcome: str, detail: str, sent: bool,
                     printer_status: str | None, actor: str) -> ResultChange:
        change = call_blocking(self.spool.record_result, job_id, outcome, detail, sent=sent, actor=actor,
                               printer_status=printer_status)
        self.publish(change)
        return change

    def publish(self, change: ResultChange) -> None:
        if not change.changed:
            return
        job = change.job
        payload = {
            "job_id": job["id"], "ticket_id": job["ticket_id"], "number": job["number"], "state": job["state"],
            "outcome": job["last_outcome"], "status": job["last_status"], "detail": job["last_detail"],
            "attempts": job["attempts"], "fallback": change.fallback, "will_retry": change.will_retry,
        }
        self.emit("print:result", payload, kiosk_room(job["kiosk_token_id"]))
        if change.alert:
            # A printer that stays out of paper fails every ticket: staff hear it once a minute per printer
            # (and of every ticket that is finally given up); the audit log keeps every attempt.
            repeat = None if job["state"] == "failed" else f"{job['printer_uri']}:{job['last_status']}"
            self._alert(job, job["last_outcome"], job["last_status"], job["last_detail"], change.will_retry,
                        repeat_key=repeat)

    def _alert(self, job: dict[str, Any], outcome: str, status: str, detail: str, will_retry: bool,
               repeat_key: str | None = None) -> None:
        """``printer:alert`` to staff (a repeated warning at most once a minute)."""
        if repeat_key is not None:
            now = time.monotonic()
            if now - self._last_alert.get(repeat_key, -1e9) < ALERT_REPEAT_SECONDS:
                return
            self._last_alert[repeat_key] = now
        self.emit("printer:alert", {
            "job_id": job["id"], "ticket_id": job["ticket_id"], "number": job["number"],
            "kiosk": {"id": job["kiosk_token_id"], "name": job["kiosk_name"]},
            "printer_uri": job["printer_uri"], "via_agent": job["via_agent"], "outcome": outcome,
            "status": status, "detail": detail, "attempts": job["attempts"], "will_retry": will_retry,
            "state": job["state"], "at": self.antre.clock.now().isoformat(timespec="seconds"),
        }, "staff")

    def _agent_offline(self, job: dict[str, Any]) -> None:
        """The kiosk's print agent is away: the job waits; the kiosk shows the ticket; staff hear once a minute."""
        detail = "the print agent of this kiosk is not connected; the ticket prints when it returns"
        self.emit("print:result", {
            "job_id": job["id"], "ticket_id": job["ticket_id"], "number": job["number"], "state": job["state"],
            "outcome": "offline", "status": "offline", "detail": detail, "attempts": job["attempts"],
            "fallback": True, "will_retry": True,
        }, kiosk_room(job["kiosk_token_id"]))
        key = f"agent:{job['kiosk_token_id']}"
        now = time.monotonic()
        if now - self._last_alert.get(key, -1e9) < ALERT_REPEAT_SECONDS:
            return
        self._last_alert[key] = now
        call_blocking(self.spool.audit_alert, job, "offline", detail)
        self._alert(job, "offline", "offline", detail, True)

    @staticmethod
    def emit(event: str, payload: dict[str, Any], room: str) -> None:
        from web.push import socketio

        try:
            socketio.emit(event, payload, to=room)
        except Exception:  # noqa: BLE001 - a push is a courtesy; the state is in the database
            log.exception("could not emit %s", event)

    # -------------------------------------------------------------- background

    def start(self, app: Flask) -> None:
        """The retry and recovery loop (only when background work is on)."""
        spawn(self._loop, name="antre-kiosk-print")

    def _loop(self) -> None:
        last_recover = 0.0
        while True:
            try:
                now = time.monotonic()
                if now - last_recover >= RECOVER_EVERY_SECONDS:
                    last_recover = now
                    for change in call_blocking(self.spool.recover):
                        self.publish(change)
                for job in call_blocking(self.spool.claim_due, send=True):
                    self._submit(job)
            except Exception:  # noqa: BLE001 - tried again in a second
                log.exception("kiosk print loop failed")
            sleep(RETRY_POLL_SECONDS)
