"""The print agent: prints a kiosk's tickets on a printer hanging off the kiosk's own Pi.

    python server.py print-agent --server http://192.168.1.10:5000 --token KIOSK_TOKEN --printer usb:04b8:0e15

It holds the kiosk's token, listens on Socket.IO for ``print:pending`` (and
polls ``GET /api/v1/print-agent/jobs`` as a fallback and as its heartbeat),
prints each job's ESC/POS bytes through :class:`printing.worker.PrintWorker`
(status before and after, every device call bounded), and reports each result
(``POST /api/v1/print-agent/jobs/{id}/result``).  Jobs wait on the server
while the agent is away and are printed once, in order, when it returns.

"Once" holds across crashes too: a journal in ``--state-dir`` records a job id,
fsync'd, *before* its bytes go to the printer, and its outcome after.  A job
the server offers again (its result was never acknowledged) is then reported
from the journal, not printed again.  Results the server did not take are
kept and sent again until it acknowledges them by job id.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import requests

log = logging.getLogger("antre.print-agent")

FAST_POLL_SECONDS = 2.0  # without Socket.IO
JOURNAL_KEEP = 5000
OUTCOME_STATUS = {"printed": "ok", "paper_out": "paper_out", "offline": "offline", "timeout": "unknown",
                  "error": "unknown"}


class AgentJournal:
    """Durable record of the jobs sent to the printer and their outcomes (JSON lines, fsync'd).

    It is the ``printed_ids`` memory of the agent's :class:`~printing.worker.PrintWorker`:
    ``add`` is called just before the bytes are written.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line torn by a power cut: the entry before it still counts
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    self.entries.setdefault(entry["id"], {}).update(entry)
        if len(self.entries) > JOURNAL_KEEP:
            self._compact()

    def _append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.entries.setdefault(entry["id"], {}).update(entry)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def _compact(self) -> None:
        keep = list(self.entries.items())[-JOURNAL_KEEP:]
        self.entries = dict(keep)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for job_id, entry in keep:
                fh.write(json.dumps({**entry, "id": job_id}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self.entries

    def add(self, job_id: str) -> None:
        self._append({"id": job_id, "sent_at": time.time()})

    def outcome(self, job_id: str, outcome: str, detail: str) -> None:
        self._append({"id": job_id, "outcome": outcome, "detail": detail})

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self.entries.get(job_id)
            return dict(entry) if entry is not None else None


class AgentError(Exception):
    """The server refused the agent (wrong token, not a kiosk token): stop."""


class PrintAgent:
    """One kiosk's print agent (see the module docstring)."""

    def __init__(self, server: str, token: str, printer_uri: str, state_dir: Path, *, poll_seconds: float = 10.0,
                 timeout: float = 5.0, http: requests.Session | None = None,
                 opener: Callable[..., Any] | None = None) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.printer_uri = printer_uri
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.http = http or requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json",
                                  "User-Agent": "antre-print-agent"})
        self.journal = AgentJournal(Path(state_dir) / "printed.jsonl")
        self.unreported: dict[int, dict[str, Any]] = {}
        self.printer_status: str | None = None
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.connected = False
        self.printed = 0
        self._results: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._opener = opener
        self._worker: Any = None
        self._sio: Any = None

    # ---------------------------------------------------------------- printing

    @property
    def worker(self) -> Any:
        if self._worker is None:
            from printing.worker import PrintWorker

            kwargs: dict[str, Any] = {"timeout": self.timeout, "printed_ids": self.journal}
            if self._opener is not None:
                kwargs["opener"] = self._opener
            self._worker = PrintWorker(lambda job_id, outcome, detail: self._results.put((job_id, outcome, detail)),
                                       **kwargs)
        return self._worker

    def _print(self, job_id: int, data: bytes) -> tuple[str, str]:
        from printing.worker import PrintJob

        self.worker.submit(PrintJob(str(job_id), self.printer_uri, data))
        deadline = time.monotonic() + 4 * self.timeout + 5
        while True:
            try:
                done_id, outcome, detail = self._results.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                return "timeout", "the printer did not finish in time"
            if done_id == str(job_id):
                return outcome, detail

    def handle(self, job: dict[str, Any]) -> bool:
        """Print one job (or settle it from the journal) and report it; True when it printed."""
        job_id = int(job["id"])
        key = str(job_id)
        known = self.journal.get(key)
        if known is not None:
            # Sent before (the agent restarted, or the report was lost): never send it again.
            outcome = known.get("outcome") or "error"
            detail = known.get("detail") or "the agent stopped while printing; the ticket may have printed, " \
                                            "so it is not printed again"
            self.report(job_id, outcome, detail, sent=True)
            return outcome == "printed"
        try:
            data = base64.b64decode(job["data_base64"], validate=True)
        except (KeyError, ValueError, binascii.Error):
            self.report(job_id, "error", "the job's bytes are not valid base64", sent=False)
            return False
        outcome, detail = self._print(job_id, data)
        sent = key in self.journal
        if sent:
            self.journal.outcome(key, outcome, detail)
        self.printer_status = "paper_low" if "paper low" in detail.lower() else OUTCOME_STATUS.get(outcome)
        self.report(job_id, outcome, detail, sent=sent)
        if outcome == "printed":
            self.printed += 1
        log.info("job %s (%s): %s %s", job_id, job.get("number"), outcome, detail)
        return outcome == "printed"

    # ------------------------------------------------------------------ server

    def _url(self, path: str) -> str:
        return self.server + path

    def _check(self, response: requests.Response) -> None:
        if response.status_code in (401, 403):
            raise AgentError(f"the server refused the kiosk token ({response.status_code}): {response.text[:200]}")

    def report(self, job_id: int, outcome: str, detail: str, *, sent: bool) -> None:
        payload = {"outcome": outcome, "detail": detail[:500], "sent": sent}
        if self.printer_status:
            payload["printer_status"] = self.printer_status
        self.unreported[job_id] = payload
        self.flush_reports()

    def flush_reports(self) -> None:
        """Send the results the server has not acknowledged yet, oldest first."""
        for job_id in sorted(self.unreported):
            try:
                response = self.http.post(self._url(f"/api/v1/print-agent/jobs/{job_id}/result"),
                                          json=self.unreported[job_id], timeout=10)
            except requests.RequestException as exc:
                log.warning("cannot report job %s yet: %s", job_id, exc)
                return
            self._check(response)
            if response.status_code in (200, 404, 409):  # 404/409: nothing more to tell about it
                self.unreported.pop(job_id, None)
            else:
                log.warning("report of job %s refused (%s); kept", job_id, response.status_code)
                return

    def poll_once(self) -> int:
        """Fetch the kiosk's waiting jobs and print them in order; returns how many printed.

        A job that did not print stops the round: the ones after it wait, so
        that the kiosk's tickets come out in the order they were issued.
        """
        self.flush_reports()
        if self.unreported:
            return 0  # the server has not heard the last results yet: do not print ahead of them
        params = {"printer_status": self.printer_status} if self.printer_status else {}
        response = self.http.get(self._url("/api/v1/print-agent/jobs"), params=params, timeout=10)
        self._check(response)
        response.raise_for_status()
        printed = 0
        for job in response.json().get("jobs", []):
            if self.stopping.is_set():
                break
            if not self.handle(job):
                break
            printed += 1
        return printed

    # --------------------------------------------------------------- socket.io

    def _connect_socket(self) -> None:
        import socketio

        if self._sio is None:
            sio = socketio.Client(reconnection=True, reconnection_delay=1, reconnection_delay_max=10,
                                  logger=False, engineio_logger=False)

            @sio.event
            def connect() -> None:
                self.connected = True
                self.wake.set()

            @sio.event
            def disconnect(*_args: Any) -> None:
                self.connected = False

            @sio.on("print:pending")
            def pending(_data: Any = None) -> None:
                self.wake.set()

            self._sio = sio
        if self._sio.connected:
            return
        try:
            self._sio.connect(self.server, auth={"token": self.token}, wait_timeout=5, retry=False)
        except Exception as exc:  # noqa: BLE001 - REST polling carries on
            log.info("Socket.IO not connected (%s); polling every %.0f s", exc, FAST_POLL_SECONDS)

    # -------------------------------------------------------------------- loop

    def _socket_loop(self) -> None:
        """Keep the Socket.IO connection up (in the background: printing never waits for it)."""
        while not self.stopping.is_set():
            if self._sio is None or not self._sio.connected:
                self._connect_socket()
            self.stopping.wait(10)

    def run(self) -> None:
        """Poll and print until :meth:`stop`."""
        log.info("print agent for %s on printer %s", self.server, self.printer_uri)
        threading.Thread(target=self._socket_loop, name="agent-socket", daemon=True).start()
        backoff = 1.0
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                self.poll_once()
                backoff = 1.0
                wait = self.poll_seconds if self.connected else FAST_POLL_SECONDS
            except AgentError:
                raise
            except (requests.RequestException, ValueError) as exc:
                log.warning("server not reachable: %s", exc)
                wait = backoff
                backoff = min(backoff * 2, 30.0)
            self.wake.wait(wait)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def close(self) -> None:
        if self._sio is not None:
            try:
                self._sio.disconnect()
            except Exception:  # noqa: BLE001
                log.debug("socket disconnect failed", exc_info=True)
        if self._worker is not None:
            self._worker.stop(2.0, drain=False)


@click.command("print-agent")
@click.option("--server", required=True, help="The Antre server, e.g. http://192.168.1.10:5000")
@click.option("--token", required=True, envvar="ANTRE_KIOSK_TOKEN",
              help="This kiosk's token (or the environment variable ANTRE_KIOSK_TOKEN).")
@click.option("--printer", "printer_uri", required=True,
              help="The local printer: usb:VID:PID, tcp://HOST:PORT, serial:/dev/ttyUSB0, cups:QUEUE, file:DIR, "
                   "virtual.")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("antre-agent"),
              show_default=True, help="Where the agent keeps its journal of printed jobs.")
@click.option("--poll", "poll_seconds", type=click.FloatRange(1, 300), default=10.0, show_default=True,
              help="Seconds between polls while Socket.IO is connected (2 s without).")
@click.option("--timeout", type=click.FloatRange(0.5, 60), default=5.0, show_default=True,
              help="Time limit of every printer call, in seconds.")
def print_agent_command(server: str, token: str, printer_uri: str, state_dir: Path, poll_seconds: float,
                        timeout: float) -> None:
    """Print this kiosk's tickets on a printer attached to this machine (run on the kiosk's Pi)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from printing.backends import open_printer

    try:
        open_printer(printer_uri, timeout).close()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--printer") from exc
    agent = PrintAgent(server, token, printer_uri, state_dir, poll_seconds=poll_seconds, timeout=timeout)

    def stop(*_args: Any) -> None:
        log.info("stopping")
        agent.stop()

    from antre.blocking import gevent_active

    if gevent_active():
        from gevent import signal_handler

        signal_handler(signal.SIGTERM, stop)
        signal_handler(signal.SIGINT, stop)
    else:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    try:
        agent.run()
    except AgentError as exc:
        click.echo(f"print agent stopped: {exc}", err=True)
        sys.exit(2)
    finally:
        agent.close()
