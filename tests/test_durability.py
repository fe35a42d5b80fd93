"""Several processes on one data dir, and a kill -9 in the middle of a burst.

* 4 processes issuing 1,000 tickets each give 4,000 distinct numbers.
* A server killed with SIGKILL during a burst of issues loses nothing it
  answered: every answered ticket is in the database after the restart, no
  number was handed out twice, and every ticket has its event.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from pathlib import Path

import requests

from antre.demo import seed_demo
from antre.store import Store
from tests.support.live import LiveServer

PER_PROCESS = 1000
PROCESSES = 4


def _issue_many(data_dir: str, worker: int, count: int, result: multiprocessing.Queue) -> None:
    from antre.queue import Actor, Queue
    from antre.store import Store

    store = Store(data_dir)
    queue = Queue(store)
    services = [s["id"] for s in queue.services() if s["quota_left"] is None][:3]
    numbers = []
    for i in range(count):
        outcome = queue.issue(services[i % len(services)], actor=Actor(f"kiosk-{worker}", "kiosk"))
        numbers.append((outcome.ticket["service_id"], outcome.ticket["number"]))
    result.put(numbers)


def test_four_processes_issue_4000_distinct_numbers(tmp_path: Path):
    data_dir = tmp_path / "shared"
    seed_demo(Store(data_dir))
    ctx = multiprocessing.get_context("spawn")
    result: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_issue_many, args=(str(data_dir), w, PER_PROCESS, result)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    answered = []
    for _ in procs:
        answered.extend(result.get(timeout=240))
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(answered) == PROCESSES * PER_PROCESS
    assert len(set(answered)) == len(answered), "a number was handed out twice"
    store = Store(data_dir)
    with store.read() as db:
        tickets = db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        events = db.conn.execute("SELECT COUNT(*) FROM events WHERE type = 'ticket.issued'").fetchone()[0]
        per_service = db.conn.execute(
            "SELECT service_id, COUNT(*), MAX(seq) FROM tickets GROUP BY service_id"
        ).fetchall()
    assert tickets == events == PROCESSES * PER_PROCESS
    for _service, count, top in per_service:
        assert count == top, "numbering has a gap or a repeat"
    assert store.verify_audit().ok


def test_kill_9_during_a_burst_loses_nothing_answered(tmp_path: Path):
    server = LiveServer(tmp_path / "crash").start()
    token = server.token("kiosk")
    answered: list[dict] = []
    stop = threading.Event()

    def burst(service_id: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            try:
                r = session.post(f"{server.url}/api/v1/tickets", json={"service_id": service_id}, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 201:
                answered.append(r.json())

    threads = [threading.Thread(target=burst, args=(sid,)) for sid in (1, 1, 2, 3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(answered) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(answered) >= 300, server.log()

    restarted = LiveServer(server.data_dir, demo=False).start()
    try:
        admin = restarted.token("admin")
        for t in answered:
            r = restarted.api("GET", f"/api/v1/tickets/{t['id']}", admin)
            assert r.status_code == 200, f"answered ticket {t['number']} lost"
            assert r.json()["number"] == t["number"]
        # Issuing goes on after the restart without repeating a number.
        after = restarted.api("POST", "/api/v1/tickets", restarted.token("kiosk"), json={"service_id": 1})
        assert after.status_code == 201
    finally:
        restarted.stop()
    store = Store(server.data_dir)
    with store.read() as db:
        dupes = db.conn.execute(
            "SELECT number FROM tickets GROUP BY origin_service_id, day, number HAVING COUNT(*) > 1"
        ).fetchall()
        missing_events = db.conn.execute(
            "SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.issued')"
        ).fetchone()[0]
        gaps = db.conn.execute(
            "SELECT origin_service_id FROM tickets GROUP BY origin_service_id, day HAVING COUNT(*) != MAX(seq)"
        ).fetchall()
    assert not dupes and missing_events == 0 and not gaps
    assert store.verify_audit().ok
