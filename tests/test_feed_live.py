"""Webhooks end to end: real server processes, killed with SIGKILL and restarted,
delivering to a real receiver on loopback that answers errors, hangs and
disappears.  Every event must arrive, in order once duplicates are dropped,
correctly signed; of two processes on one data dir exactly one delivers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from antre.store import Store
from bench.webhook_receiver import HANG, Receiver
from tests.support.live import LiveServer

pytestmark = pytest.mark.slow

SECRET = "platform-secret-9f8e7d6c5b4a"
#: short timeouts and backoff so that a test takes seconds, not minutes
FAST = {"webhook_connect_timeout_s": 1.0, "webhook_read_timeout_s": 1.0, "webhook_backoff_min_s": 0.1,
        "webhook_backoff_max_s": 0.5, "webhook_lease_s": 2.0}


def preset(data_dir: Path, settings: dict[str, Any]) -> None:
    store = Store(data_dir)
    try:
        with store.write() as db:
            for key, value in settings.items():
                store.set_setting(db, key, value)
    finally:
        store.close()


class Traffic:
    """Queue actions over the API: issues, calls, finishes (varied event types)."""

    def __init__(self, *servers: LiveServer) -> None:
        self.servers = servers
        self.tokens = [(s.token("kiosk"), s.token("counter")) for s in servers]
        self.n = 0

    def run(self, actions: int) -> None:
        for _ in range(actions):
            index = self.n % len(self.servers)
            server, (kiosk, counter) = self.servers[index], self.tokens[index]
            if self.n % 3 == 2:
                r = server.api("POST", "/api/v1/counters/1/call-next", counter)
                assert r.status_code in (200, 404), r.text
            else:
                r = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1 + self.n % 2})
                assert r.status_code == 201, r.text
            self.n += 1


def last_event_id(server: LiveServer, admin: str) -> int:
    r = server.api("GET", "/api/v1/webhooks", admin)
    assert r.status_code == 200
    hooks = r.json()
    return max(h["delivered_through"] + h["backlog"] for h in hooks)


def all_events(server: LiveServer, admin: str, after: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = server.api("GET", f"/api/v1/events?after={after}&limit=1000", admin).json()
        if not page["events"]:
            return out
        out += page["events"]
        after = page["next"]


def check_deliveries(receiver: Receiver, events: list[dict[str, Any]]) -> None:
    """Every event, in order after dropping duplicates, correctly signed, as the events API shows it."""
    assert receiver.unique_accepted_ids() == [e["id"] for e in events]
    by_id = {e["id"]: e for e in events}
    for delivery in receiver.deliveries:
        assert delivery.signed_with(SECRET), f"bad signature on event {delivery.event_id}"
        assert delivery.event["id"] == delivery.event_id
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.event == by_id[delivery.event_id]


def test_every_event_arrives_through_errors_hangs_a_vanished_receiver_and_sigkill(tmp_path: Path) -> None:
    hang_ids: set[int] = set()

    def plan(event_id: int, attempt: int) -> int | str:
        if attempt == 1 and event_id in hang_ids:
            return HANG
        if attempt == 1 and event_id % 7 == 0:
            return 500
        if attempt == 1 and event_id % 11 == 0:
            return 404
        return 200

    receiver = Receiver(secret=SECRET, plan=plan, hang_seconds=3.0).start()
    data_dir = tmp_path / "data"
    preset(data_dir, FAST)
    server = LiveServer(data_dir).start()
    try:
        admin = server.token("admin")
        traffic = Traffic(server)
        traffic.run(3)  # before the registration: never sent
        r = server.api("POST", "/api/v1/webhooks", admin, json={"url": receiver.url, "secret": SECRET})
        assert r.status_code == 201, r.text
        registered_at = last_event_id(server, admin)

        # 1. errors (500, 404) on first attempts are retried
        traffic.run(12)
        target = last_event_id(server, admin)
        receiver.wait_for(lambda: receiver.unique_accepted_ids()[-1:] == [target], 30, "phase 1 events")

        # 2. the receiver disappears; the backlog grows and the admin sees why
        receiver.stop()
        traffic.run(16)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            hook = server.api("GET", "/api/v1/webhooks", admin).json()[0]
            if hook["last_error"] and "connection failed" in hook["last_error"]:
                break
            time.sleep(0.05)
        assert hook["backlog"] > 0 and hook["state"] == "retrying", hook

        # 3. the receiver is back; the server dies (SIGKILL) in the middle of the backlog,
        #    on a request the receiver holds without answering
        hang_ids.add(receiver.unique_accepted_ids()[-1] + 6)
        receiver.start()
        receiver.wait_for(lambda: any(d.event_id in hang_ids for d in receiver.deliveries), 30, "the hung request")
        server.kill()
        assert receiver.unique_accepted_ids()[-1] < min(hang_ids)

        # 4. restart, more traffic: the backlog drains from the stored cursor
        server.start()
        traffic.run(4)
        target = last_event_id(server, admin)
        receiver.wait_for(lambda: receiver.unique_accepted_ids()[-1:] == [target], 30, "all events")
        events = all_events(server, admin, registered_at)
        assert len(events) == target - registered_at >= 32
        check_deliveries(receiver, events)
        hook = server.api("GET", "/api/v1/webhooks", admin).json()[0]
        assert hook["backlog"] == 0 and hook["delivered_through"] == target
    finally:
        server.stop()
        receiver.stop()


def _holder_pid(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "antre.db")
    try:
        row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = 'webhooks'").fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0].split(":")[-2])


def test_two_processes_on_one_data_dir_deliver_each_event_once(tmp_path: Path) -> None:
    receiver = Receiver(secret=SECRET).start()
    data_dir = tmp_path / "data"
    preset(data_dir, {**FAST, "webhook_read_timeout_s": 5.0})  # exactly once: no retry on a slow moment
    first, second = LiveServer(data_dir), LiveServer(data_dir)
    starting = threading.Thread(target=second.start)  # both at once, as after a power cut
    starting.start()
    first.start()
    starting.join()
    assert second.proc is not None
    try:
        admin = first.token("admin")
        r = first.api("POST", "/api/v1/webhooks", admin, json={"url": receiver.url, "secret": SECRET})
        assert r.status_code == 201
        registered_at = last_event_id(first, admin)
        traffic = Traffic(first, second)
        traffic.run(20)
        target = last_event_id(second, admin)
        receiver.wait_for(lambda: receiver.unique_accepted_ids()[-1:] == [target], 30, "all events")
        time.sleep(0.5)  # a second deliverer, if there were one, would have sent its copies by now
        ids = [d.event_id for d in receiver.deliveries]
        assert ids == list(range(registered_at + 1, target + 1))  # each once, in order, no retries needed
        check_deliveries(receiver, all_events(first, admin, registered_at))

        # The delivering process dies; the other takes over once its lease runs out.
        leader_pid = _holder_pid(data_dir)
        leader, survivor = (first, second) if first.proc and first.proc.pid == leader_pid else (second, first)
        assert leader.proc is not None and leader.proc.pid == leader_pid
        leader.kill()
        Traffic(survivor).run(6)
        target = last_event_id(survivor, admin)
        receiver.wait_for(lambda: receiver.unique_accepted_ids()[-1:] == [target], 30, "events after failover")
        check_deliveries(receiver, all_events(survivor, admin, registered_at))
        assert _holder_pid(data_dir) == survivor.proc.pid  # type: ignore[union-attr]
    finally:
        first.stop()
        second.stop()
        receiver.stop()
