"""The print agent and the printer alerts against a real server process.

* The agent is a real ``server.py print-agent`` process printing on a file
  printer: while it is away the kiosk's jobs wait on the server, and when it
  returns they are printed once, in order (also after a kill -9 of the agent).
* Paper out on a kiosk's printer: the kiosk's socket gets the on-screen
  fallback (``print:result``), a staff socket gets ``printer:alert``, and the
  audit log has the row.  A printer that comes back prints the ticket once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from antre.auth import verify_token
from antre.store import Store
from printing.decode import decode
from tests.support.live import ROOT, LiveServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


class Listener:
    """A real Socket.IO client that records the events it gets."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _record(self, event: str, data: Any = None) -> None:
        with self.lock:
            self.events.append((event, data))

    def of(self, name: str) -> list[Any]:
        with self.lock:
            return [data for event, data in self.events if event == name]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("kiosk-live")).start()
    store = Store(live.data_dir)
    with store.write() as db:  # quick retries for the test
        store.set_setting(db, "print.retry_seconds", 1)
        store.set_setting(db, "print.max_attempts", 20)
    store.close()
    yield live
    live.stop()


def token_id(live: LiveServer, token: str) -> int:
    store = Store(live.data_dir)
    try:
        info = verify_token(store, token)
        assert info is not None
        return info.id
    finally:
        store.close()


def set_printer(live: LiveServer, admin: str, kiosk: str, **body: Any) -> None:
    response = live.api("PUT", f"/api/v1/kiosks/{token_id(live, kiosk)}/printer", admin, json=body)
    assert response.status_code == 200, response.text


def take(live: LiveServer, kiosk: str, service_id: int = 1) -> dict[str, Any]:
    response = live.api("POST", "/api/v1/tickets", kiosk, json={"service_id": service_id})
    assert response.status_code == 201, response.text
    return response.json()


def job_of(live: LiveServer, kiosk: str, ticket: dict[str, Any]) -> dict[str, Any]:
    response = live.api("GET", f"/api/v1/tickets/{ticket['id']}/print", kiosk)
    assert response.status_code == 200, response.text
    return response.json()


def numbers_printed(directory: Path) -> list[str]:
    out = []
    # in the order written (a file printer's names sort by second, then by a nanosecond count that restarts
    # each second: the order of two tickets a second boundary apart is only in their modification times)
    for path in sorted(directory.glob("*.bin"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        lines = decode(path.read_bytes()).text_lines
        out.append(lines[lines.index("NOMOR ANTRIAN") + 1])
    return out


def start_agent(live: LiveServer, token: str, printer: Path, state: Path) -> subprocess.Popen[bytes]:
    log = (state.parent / f"agent-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "server.py"), "print-agent", "--server", live.url, "--printer", f"file:{printer}",
         "--state-dir", str(state), "--poll", "5", "--timeout", "2"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANTRE_KIOSK_TOKEN": token},
    )


def test_agent_away_jobs_wait_then_print_once_in_order(server: LiveServer, tmp_path: Path) -> None:
    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios dengan agen")
    set_printer(server, admin, kiosk, print_via_agent=True)
    printer, state = tmp_path / "agent-printer", tmp_path / "agent-state"
    printer.mkdir()
    kiosk_socket = Listener(server.url, kiosk)
    staff = Listener(server.url, admin)
    try:
        away = [take(server, kiosk) for _ in range(3)]
        assert [job_of(server, kiosk, t)["state"] for t in away] == ["queued"] * 3
        # the kiosk shows the ticket on screen at once, staff hear that the agent is away
        results = wait_for(lambda: [r for r in kiosk_socket.of("print:result") if r["ticket_id"] == away[0]["id"]])
        assert results[0]["fallback"] and results[0]["will_retry"]
        alert = wait_for(lambda: staff.of("printer:alert"))[0]
        assert alert["via_agent"] and alert["kiosk"]["name"] == "Kios dengan agen"

        agent = start_agent(server, kiosk, printer, state)
        try:
            wait_for(lambda: len(numbers_printed(printer)) == 3, timeout=20)
            assert numbers_printed(printer) == [t["number"] for t in away]
            wait_for(lambda: all(job_of(server, kiosk, t)["state"] == "printed" for t in away))
            # with the agent connected, a new ticket goes out at once (Socket.IO nudge)
            now = take(server, kiosk)
            wait_for(lambda: len(numbers_printed(printer)) == 4, timeout=4)
            printed = wait_for(lambda: [r for r in kiosk_socket.of("print:result")
                                        if r["ticket_id"] == now["id"] and r["state"] == "printed"])
            assert not printed[0]["fallback"]
        finally:
            agent.send_signal(signal.SIGKILL)
            agent.wait(10)
        # killed: two more wait on the server, then a new agent prints them, once, in order
        later = [take(server, kiosk) for _ in range(2)]
        agent = start_agent(server, kiosk, printer, state)
        try:
            wait_for(lambda: len(numbers_printed(printer)) == 6, timeout=20)
            time.sleep(1.5)  # and nothing more comes out
            assert numbers_printed(printer) == [t["number"] for t in [*away, now, *later]]
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(15) == 0
    finally:
        kiosk_socket.close()
        staff.close()


def test_agent_never_reprints_a_job_it_sent_before_a_crash(server: LiveServer, tmp_path: Path) -> None:
    """The agent died after sending a job's bytes but before reporting it: the job is settled, not reprinted."""
    from kiosk.agent import PrintAgent

    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios crash")
    set_printer(server, admin, kiosk, print_via_agent=True)
    printer, state = tmp_path / "p", tmp_path / "s"
    printer.mkdir()
    ticket = take(server, kiosk)
    job = job_of(server, kiosk, ticket)
    first = PrintAgent(server.url, kiosk, f"file:{printer}", state, timeout=2)
    first.journal.add(str(job["id"]))  # what the dead agent had written just before printing
    again = PrintAgent(server.url, kiosk, f"file:{printer}", state, timeout=2)
    try:
        assert again.poll_once() == 0
        settled = job_of(server, kiosk, ticket)
        assert settled["state"] == "failed" and settled["sent_at"] is not None
        assert list(printer.glob("*.bin")) == []
        # a report repeated by the agent changes nothing
        response = server.api("POST", f"/api/v1/print-agent/jobs/{job['id']}/result", kiosk,
                              json={"outcome": "printed", "sent": True})
        assert response.status_code == 200 and response.json()["changed"] is False
    finally:
        again.close()


def test_agent_api_refuses_what_is_not_its_own(server: LiveServer) -> None:
    admin, kiosk, other = server.token("admin"), server.token("kiosk"), server.token("kiosk", "lain")
    set_printer(server, admin, kiosk, print_via_agent=True)
    job = job_of(server, kiosk, take(server, kiosk))
    path = f"/api/v1/print-agent/jobs/{job['id']}/result"
    assert server.api("POST", path, other, json={"outcome": "printed"}).status_code == 404
    assert server.api("POST", path, admin, json={"outcome": "printed"}).status_code == 403
    assert server.api("POST", path, kiosk, json={"outcome": "burnt"}).status_code == 400
    assert server.api("POST", path, kiosk, json={"outcome": "printed", "sent": "yes"}).status_code == 400
    assert server.api("GET", "/api/v1/print-agent/jobs?printer_status=smoke", kiosk).status_code == 400
    listed = server.api("GET", "/api/v1/print-agent/jobs?printer_status=ok", kiosk).json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert server.api("PUT", "/api/v1/kiosks/999999/printer", admin, json={}).status_code == 404
    bad = server.api("PUT", f"/api/v1/kiosks/{token_id(server, kiosk)}/printer", admin,
                     json={"printer_uri": "lpt1:"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_printer_uri"
    # a server-printed job cannot be reported by an agent
    plain = server.token("kiosk", "tanpa agen")
    server_job = job_of(server, plain, take(server, plain))
    refused = server.api("POST", f"/api/v1/print-agent/jobs/{server_job['id']}/result", plain,
                         json={"outcome": "printed"})
    assert refused.status_code == 409


def test_paper_out_shows_the_ticket_alerts_staff_audits_and_prints_once_when_fixed(server: LiveServer,
                                                                                    tmp_path: Path) -> None:
    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios kertas")
    missing = tmp_path / "not-yet"  # a file printer whose folder is missing is offline
    set_printer(server, admin, kiosk, printer_uri=f"file:{missing}")
    kiosk_socket = Listener(server.url, kiosk)
    staff = Listener(server.url, admin)
    try:
        ticket = take(server, kiosk)
        result = wait_for(lambda: [r for r in kiosk_socket.of("print:result") if r["ticket_id"] == ticket["id"]])[0]
        assert result["fallback"] and result["outcome"] == "offline" and result["state"] == "retrying"
        alert = wait_for(lambda: [a for a in staff.of("printer:alert") if a["ticket_id"] == ticket["id"]])[0]
        assert alert["printer_uri"] == f"file:{missing}" and alert["kiosk"]["name"] == "Kios kertas"
        store = Store(server.data_dir)
        try:
            with store.read() as db:
                rows = db.conn.execute("SELECT details FROM audit WHERE action = 'printer.alert' AND ticket_id = ?",
                                       (ticket["id"],)).fetchall()
            assert rows and json.loads(rows[0][0])["outcome"] == "offline"
            assert store.verify_audit().ok
        finally:
            store.close()
        missing.mkdir()  # the printer is back: the retry prints it, once
        wait_for(lambda: job_of(server, kiosk, ticket)["state"] == "printed", timeout=10)
        assert numbers_printed(missing) == [ticket["number"]]
        printed = wait_for(lambda: [r for r in kiosk_socket.of("print:result")
                                    if r["ticket_id"] == ticket["id"] and r["state"] == "printed"])
        assert printed
        time.sleep(1.5)
        assert numbers_printed(missing) == [ticket["number"]]
    finally:
        kiosk_socket.close()
        staff.close()


def test_paper_out_on_a_virtual_printer(server: LiveServer) -> None:
    admin, kiosk = server.token("admin"), server.token("kiosk", "Kios virtual")
    set_printer(server, admin, kiosk, printer_uri="virtual:kiosk-test?fault=paper_out")
    kiosk_socket = Listener(server.url, kiosk)
    try:
        ticket = take(server, kiosk)
        result = wait_for(lambda: [r for r in kiosk_socket.of("print:result") if r["ticket_id"] == ticket["id"]])[0]
        assert result["outcome"] == "paper_out" and result["status"] == "paper_out" and result["fallback"]
        assert job_of(server, kiosk, ticket)["sent_at"] is None  # refused before sending: may be retried
    finally:
        kiosk_socket.close()
