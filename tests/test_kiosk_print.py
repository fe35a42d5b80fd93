"""Kiosk printing: the bytes that reach the printer, and the durable spool under faults.

Real parts throughout: the Flask app and its real print path (the after-request
hook, the renderer, PrintWorker, the file and virtual printers), a real SQLite
spool, and ESC/POS decoded back from the bytes a printer received.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from antre.clock import FrozenClock
from antre.printjobs import DurableSentIds, PrintSpool, holder_alive
from antre.store import Store
from printing.decode import decode
from printing.virtual import get_virtual_printer, remove_virtual_printer
from printing.worker import PrintJob, PrintWorker
from tests.conftest import bearer
from tests.support.live import make_token
from tests.support.waiting import wait_for


@pytest.fixture
def prints(tmp_path: Path) -> Path:
    d = tmp_path / "prints"
    d.mkdir()
    return d


@pytest.fixture
def kiosk_app(tmp_path: Path, clock: FrozenClock, prints: Path) -> Any:
    from server import create_app
    from web.context import Settings

    settings = Settings(data_dir=tmp_path / "appdata", public_url="http://antre.test", demo=True, background=False,
                        printer=f"file:{prints}")
    application = create_app(settings, clock=clock)
    application.config["TESTING"] = True
    yield application
    application.extensions["antre"].extras["kiosk_printing"].stop()
    application.extensions["antre"].store.close()


def data_dir(app: Any) -> Path:
    return app.extensions["antre"].settings.data_dir


def issue(client: Any, token: str, service_id: int = 1, **extra: Any) -> Any:
    response = client.post("/api/v1/tickets", json={"service_id": service_id, **extra}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response


def printed_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.bin"))


# ------------------------------------------------------------------ the bytes


def test_kiosk_ticket_bytes_decode_to_number_qr_and_cut(kiosk_app: Any, prints: Path) -> None:
    client = kiosk_app.test_client()
    kiosk = make_token(data_dir(kiosk_app), "kiosk", "Kios lobi")
    response = issue(client, kiosk, 1, priority=True, priority_reason="elderly")
    ticket = response.get_json()
    assert response.headers["X-Antre-Print-Job"]
    files = wait_for(lambda: printed_files(prints))
    assert len(files) == 1
    ticket_print = decode(files[0].read_bytes())
    lines = ticket_print.text_lines
    assert ticket["number"] in lines  # printed in text mode, enlarged
    number_line = ticket_print.find(ticket["number"])
    assert number_line is not None and number_line.style.large
    assert "KTP Elektronik" in lines and "Disdukcapil" in lines
    assert any("PRIORITAS" in line for line in lines)
    assert [qr.text for qr in ticket_print.qr_codes] == [ticket["track_url"]]
    assert len(ticket_print.cuts) == 1
    wait_for(lambda: client.get(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(kiosk))
             .get_json()["state"] == "printed")
    job = client.get(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(kiosk)).get_json()
    assert job["attempts"] == 1 and job["last_outcome"] == "printed" and job["sent_at"]


def test_english_58mm_ticket_with_footer_on_the_kiosks_own_printer(kiosk_app: Any, tmp_path: Path,
                                                                    prints: Path) -> None:
    client = kiosk_app.test_client()
    own = tmp_path / "own"
    own.mkdir()
    kiosk = make_token(data_dir(kiosk_app), "kiosk", "Kios lantai 2")
    admin = make_token(data_dir(kiosk_app), "admin")
    kiosk_id = _token_id(kiosk_app, kiosk)
    put = client.put(f"/api/v1/kiosks/{kiosk_id}/printer", headers=bearer(admin),
                     json={"printer_uri": f"file:{own}", "paper_mm": 58})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["printer_uri"] == f"file:{own}"
    store = kiosk_app.extensions["antre"].store
    with store.write() as db:
        store.set_setting(db, "ticket_footer", "Terima kasih")
    ticket = issue(client, kiosk, 2, lang="en").get_json()
    files = wait_for(lambda: printed_files(own))
    assert printed_files(prints) == []
    ticket_print = decode(files[0].read_bytes())
    assert "Family card" in ticket_print.text_lines
    assert "Terima kasih" in ticket_print.text_lines
    assert all(line.columns <= 32 for line in ticket_print.lines)  # 58 mm paper: 32 columns
    assert ticket_print.qr_codes[0].text == ticket["track_url"]


def _token_id(app: Any, token: str) -> int:
    from antre.auth import verify_token

    info = verify_token(app.extensions["antre"].store, token)
    assert info is not None
    return info.id


def test_only_kiosks_print_and_a_ticket_is_printed_once(kiosk_app: Any, prints: Path) -> None:
    client = kiosk_app.test_client()
    kiosk = make_token(data_dir(kiosk_app), "kiosk")
    admin = make_token(data_dir(kiosk_app), "admin")
    admin_ticket = issue(client, admin, 1).get_json()  # an integration: nothing printed
    assert client.get(f"/api/v1/tickets/{admin_ticket['id']}/print", headers=bearer(admin)).status_code == 404
    ticket = issue(client, kiosk, 1).get_json()
    wait_for(lambda: printed_files(prints))
    printing = kiosk_app.extensions["antre"].extras["kiosk_printing"]
    again = printing.ticket_issued(ticket, _token_id(kiosk_app, kiosk), "again")  # a repeated hook
    assert again["ticket_id"] == ticket["id"]
    time.sleep(0.3)
    assert len(printed_files(prints)) == 1
    # a kiosk cannot read another kiosk's jobs
    other = make_token(data_dir(kiosk_app), "kiosk", "other")
    assert client.get(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(other)).status_code == 404


def test_paper_out_at_the_kiosk_then_the_retry_prints_it_once(kiosk_app: Any, clock: FrozenClock) -> None:
    """The server's own path: a refusal before sending withdraws the claim's sent_at; the retry prints."""
    client = kiosk_app.test_client()
    kiosk = make_token(data_dir(kiosk_app), "kiosk", "Kios paper")
    admin = make_token(data_dir(kiosk_app), "admin")
    device = get_virtual_printer("kiosk-retry")
    device.reset()
    device.set_paper("out")
    try:
        put = client.put(f"/api/v1/kiosks/{_token_id(kiosk_app, kiosk)}/printer", headers=bearer(admin),
                         json={"printer_uri": "virtual:kiosk-retry"})
        assert put.status_code == 200, put.get_json()
        ticket = issue(client, kiosk, 1).get_json()

        def job() -> dict[str, Any]:
            return client.get(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(kiosk)).get_json()

        wait_for(lambda: job()["state"] == "retrying")
        assert job()["sent_at"] is None and job()["last_outcome"] == "paper_out" and device.tickets == []
        device.set_paper("ok")
        clock.advance(16)
        printing = kiosk_app.extensions["antre"].extras["kiosk_printing"]
        for due in printing.spool.claim_due(send=True):  # one round of the retry loop (background is off)
            printing._submit(due)
        wait_for(lambda: job()["state"] == "printed")
        assert job()["attempts"] == 2 and job()["sent_at"]
        assert len(device.wait_for_tickets(1, 2)) == 1
    finally:
        remove_virtual_printer("kiosk-retry")


# ------------------------------------------------------------------ the spool


@pytest.fixture
def spool(demo_store: Store, clock: FrozenClock) -> Any:
    s = PrintSpool(demo_store, clock)
    yield s
    s.close()


def make_ticket(store: Store, clock: FrozenClock, service_id: int = 1) -> dict[str, Any]:
    from antre.queue import Queue

    outcome = Queue(store, clock, "http://antre.test").issue(service_id)
    assert outcome.ticket is not None
    return outcome.ticket


def new_job(spool: PrintSpool, store: Store, clock: FrozenClock, uri: str, *, claim: bool = True,
            via_agent: bool = False, kiosk: int | None = None) -> dict[str, Any]:
    ticket = make_ticket(store, clock)
    data = b"\x1b@ticket " + ticket["number"].encode() + b"\x1dV\x00"
    job, created = spool.create(ticket["id"], ticket["number"], data, kiosk_token_id=kiosk,
                                printer_uri=None if via_agent else uri, via_agent=via_agent, claim=claim)
    assert created
    return job


class Results:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def __call__(self, job_id: str, outcome: str, detail: str) -> None:
        self.items.append((job_id, outcome, detail))


def test_one_job_per_ticket(spool: PrintSpool, demo_store: Store, clock: FrozenClock) -> None:
    ticket = make_ticket(demo_store, clock)
    first, created = spool.create(ticket["id"], ticket["number"], b"x", kiosk_token_id=None, printer_uri="virtual",
                                  via_agent=False)
    second, created_again = spool.create(ticket["id"], ticket["number"], b"y", kiosk_token_id=None,
                                         printer_uri="virtual", via_agent=False)
    assert created and not created_again and first["id"] == second["id"]


def test_paper_out_is_retried_then_printed_exactly_once(spool: PrintSpool, demo_store: Store,
                                                        clock: FrozenClock) -> None:
    device = get_virtual_printer("spool-paper")
    device.reset()
    device.set_paper("out")
    results = Results()
    worker = PrintWorker(results, timeout=1.0, printed_ids=DurableSentIds(spool))
    try:
        job = new_job(spool, demo_store, clock, "virtual:spool-paper")
        full = spool.get(job["id"], with_data=True)
        worker.submit(PrintJob(str(job["id"]), full["printer_uri"], full["data"]))
        wait_for(lambda: results.items)
        change = spool.record_result(job["id"], *results.items[-1][1:])
        assert change.job["state"] == "retrying" and change.fallback and change.alert and change.will_retry
        assert change.job["sent_at"] is None and device.tickets == []
        assert spool.claim_due() == []  # not due yet
        clock.advance(16)
        device.set_paper("ok")
        due = spool.claim_due()
        assert [j["id"] for j in due] == [job["id"]]
        assert spool.claim_due() == []  # claimed once
        worker.submit(PrintJob(str(job["id"]), due[0]["printer_uri"], due[0]["data"]))
        wait_for(lambda: len(results.items) == 2)
        change = spool.record_result(job["id"], *results.items[-1][1:])
        assert change.job["state"] == "printed" and change.job["attempts"] == 2 and change.job["sent_at"]
        assert len(device.wait_for_tickets(1, 2)) == 1
        # the worker refuses the job id again, even if someone asked
        assert worker.submit(PrintJob(str(job["id"]), "virtual:spool-paper", b"\x1b@x\x1dV\x00")) is False
        # a repeated report changes nothing
        assert spool.record_result(job["id"], "paper_out", "late report").changed is False
        # the alert is in the audit log, hash-chained
        with demo_store.read() as db:
            rows = db.conn.execute("SELECT details FROM audit WHERE action = 'printer.alert'").fetchall()
        assert [json.loads(r[0])["outcome"] for r in rows] == ["paper_out"]
        assert demo_store.verify_audit().ok
    finally:
        worker.stop(2)
        remove_virtual_printer("spool-paper")


def test_policy_drop_and_attempt_limit(spool: PrintSpool, demo_store: Store, clock: FrozenClock) -> None:
    job = new_job(spool, demo_store, clock, "virtual")
    for attempt in (1, 2):
        change = spool.record_result(job["id"], "offline", "cable")
        assert change.job["state"] == "retrying", attempt
        clock.advance(16)
        assert [j["id"] for j in spool.claim_due()] == [job["id"]]
    change = spool.record_result(job["id"], "offline", "cable")
    assert change.job["state"] == "failed" and not change.will_retry  # 3 attempts by default
    with demo_store.write() as db:
        demo_store.set_setting(db, "print.on_failure", "drop")
    dropped = new_job(spool, demo_store, clock, "virtual")
    assert spool.record_result(dropped["id"], "paper_out", "").job["state"] == "failed"


def test_a_job_sent_before_a_failure_is_never_sent_again(spool: PrintSpool, demo_store: Store,
                                                         clock: FrozenClock) -> None:
    job = new_job(spool, demo_store, clock, "virtual")
    assert spool.mark_sent(job["id"]) and not spool.mark_sent(job["id"])
    change = spool.record_result(job["id"], "paper_out", "paper ran out; the ticket may be incomplete")
    assert change.job["state"] == "failed" and change.fallback and not change.will_retry
    clock.advance(3600)
    assert spool.claim_due() == []
    assert job["id"] in spool.sent_ids()


def dead_holder() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:dead"


def test_restart_requeues_unsent_jobs_and_never_resends_sent_ones(demo_store: Store, clock: FrozenClock) -> None:
    before = PrintSpool(demo_store, clock)
    unsent = new_job(before, demo_store, clock, "virtual")
    sent = new_job(before, demo_store, clock, "virtual")
    before.mark_sent(sent["id"])
    waiting_agent = new_job(before, demo_store, clock, "", via_agent=True, kiosk=None)
    holder = dead_holder()
    with demo_store.write() as db:  # the process that claimed them died (kill -9)
        db.conn.execute("UPDATE print_jobs SET claimed_by = ? WHERE state = 'printing'", (holder,))
    before.close()
    assert not holder_alive(holder, None, clock.now())

    after = PrintSpool(demo_store, clock)
    changes = after.recover()
    assert [c.job["id"] for c in changes] == [sent["id"]]
    assert after.get(sent["id"])["state"] == "failed"
    assert after.get(waiting_agent["id"])["state"] == "queued"  # agent jobs wait for the agent
    due = after.claim_due()
    assert [j["id"] for j in due] == [unsent["id"]]
    assert after.recover() == [] and after.claim_due() == []
    after.close()


def test_a_send_claim_commits_sent_at_and_a_refusal_withdraws_it(spool: PrintSpool, demo_store: Store,
                                                                   clock: FrozenClock) -> None:
    """The server's worker: sent_at with the claim (no commit of its own before the bytes), withdrawn
    when the printer refused the job before anything went out, set again by the retry's claim."""
    ticket = make_ticket(demo_store, clock)
    job, _ = spool.create(ticket["id"], ticket["number"], b"\x1b@x\x1dV\x00", kiosk_token_id=None,
                          printer_uri="virtual", via_agent=False, claim=True, send=True)
    assert job["state"] == "printing" and job["sent_at"] is not None
    assert spool.claim_due(send=True) == []  # sent (maybe): never claimed again as it is
    change = spool.record_result(job["id"], "paper_out", "printer is out of paper; not printed", unsent=True)
    assert change.job["state"] == "retrying" and change.job["sent_at"] is None and change.will_retry
    clock.advance(16)
    due = spool.claim_due(send=True)
    assert [j["id"] for j in due] == [job["id"]] and due[0]["sent_at"] is not None
    change = spool.record_result(job["id"], "printed", "")
    assert change.job["state"] == "printed" and change.job["sent_at"] and change.job["attempts"] == 2


def test_only_the_claiming_process_may_withdraw_a_send_claim(demo_store: Store, clock: FrozenClock) -> None:
    one = PrintSpool(demo_store, clock)
    two = PrintSpool(demo_store, clock)
    ticket = make_ticket(demo_store, clock)
    job, _ = one.create(ticket["id"], ticket["number"], b"\x1b@x\x1dV\x00", kiosk_token_id=None,
                        printer_uri="virtual", via_agent=False, claim=True, send=True)
    change = two.record_result(job["id"], "offline", "not mine", unsent=True)
    assert change.job["state"] == "failed" and change.job["sent_at"] is not None  # may be on paper: never again
    clock.advance(3600)
    assert one.claim_due(send=True) == [] and two.claim_due(send=True) == []
    one.close()
    two.close()


def test_a_send_claim_of_a_dead_process_is_never_sent_again(demo_store: Store, clock: FrozenClock) -> None:
    before = PrintSpool(demo_store, clock)
    ticket = make_ticket(demo_store, clock)
    job, _ = before.create(ticket["id"], ticket["number"], b"\x1b@x\x1dV\x00", kiosk_token_id=None,
                           printer_uri="virtual", via_agent=False, claim=True, send=True)
    with demo_store.write() as db:  # the process that claimed it died (kill -9) before or after the bytes
        db.conn.execute("UPDATE print_jobs SET claimed_by = ? WHERE id = ?", (dead_holder(), job["id"]))
    before.close()
    after = PrintSpool(demo_store, clock)
    changes = after.recover()
    assert [(c.job["id"], c.job["state"], c.alert) for c in changes] == [(job["id"], "failed", True)]
    assert after.claim_due(send=True) == []
    after.close()


def test_a_live_holder_keeps_its_jobs(demo_store: Store, clock: FrozenClock) -> None:
    one = PrintSpool(demo_store, clock)
    two = PrintSpool(demo_store, clock)
    job = new_job(one, demo_store, clock, "virtual")
    assert job["state"] == "printing"
    assert two.recover() == [] and two.claim_due() == []
    assert two.get(job["id"])["state"] == "printing"
    one.close()
    two.close()


def test_agent_jobs_in_order_and_a_retry_holds_back_the_rest(spool: PrintSpool, demo_store: Store,
                                                             clock: FrozenClock) -> None:
    kiosk = _make_kiosk(demo_store)
    jobs = [new_job(spool, demo_store, clock, "", via_agent=True, kiosk=kiosk) for _ in range(3)]
    assert [j["state"] for j in jobs] == ["queued"] * 3
    listed = spool.agent_jobs(kiosk)
    assert [j["id"] for j in listed] == [j["id"] for j in jobs] and listed[0]["data"].startswith(b"\x1b@")
    spool.record_result(jobs[0]["id"], "paper_out", "", sent=False)
    assert spool.agent_jobs(kiosk) == []  # the first waits for its retry: the others wait behind it
    clock.advance(16)
    assert [j["id"] for j in spool.agent_jobs(kiosk)] == [j["id"] for j in jobs]
    for j in jobs:
        spool.record_result(j["id"], "printed", "", sent=True)
    assert spool.agent_jobs(kiosk) == []
    assert spool.claim_due() == []  # the server never prints an agent's job


def _make_kiosk(store: Store) -> int:
    from antre.auth import create_token, verify_token

    info = verify_token(store, create_token(store, "kiosk", "agent kiosk"))
    assert info is not None
    return info.id


def test_kiosk_printer_setting_is_the_admins_printers_setting(spool: PrintSpool, demo_store: Store) -> None:
    kiosk = _make_kiosk(demo_store)
    assert spool.kiosk_printer(kiosk).printer_uri is None
    spool.set_kiosk_printer(kiosk, printer_uri=None, via_agent=True, paper_mm=58)
    with demo_store.read() as db:
        assert demo_store.get_setting(db, "printers") == {str(kiosk): "agent"}
    printer = spool.kiosk_printer(kiosk)
    assert printer.via_agent and printer.paper_mm == 58
    spool.set_kiosk_printer(kiosk, printer_uri="tcp://10.0.0.9:9100", via_agent=False)
    assert spool.kiosk_printer(kiosk).printer_uri == "tcp://10.0.0.9:9100"
    spool.set_kiosk_printer(kiosk, printer_uri=None, via_agent=False)
    with demo_store.read() as db:
        assert demo_store.get_setting(db, "printers") == {}
