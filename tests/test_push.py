"""Socket.IO with real python-socketio clients against real server processes."""

from __future__ import annotations

import queue
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.support.live import LiveServer, free_port

CALLED_KEYS = {"ticket", "counter", "service", "recall", "announcement"}


class Client:
    """A socket.io client that records every event it receives."""

    def __init__(self, url: str, auth: dict[str, Any]) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", lambda event, data=None: self.events.put((event, data)))
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def wait_for(self, name: str, timeout: float = 10.0, where: Any = None) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {name} within {timeout} s")
            try:
                event, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event == name and (where is None or where(data)):
                return data

    def none_of(self, name: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                event, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return
            assert event != name, f"unexpected {name}: {data}"

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path_factory.mktemp("push")).start()
    yield s
    s.stop()


def test_display_gets_a_snapshot_then_the_call(server):
    display = Client(server.url, {"token": server.token("display")})
    try:
        state = display.wait_for("queue:state")
        assert {"counters", "services", "recent_calls", "last_event_id", "running_text", "mpp_name"} <= set(state)
        assert len(state["counters"]) >= 25
        kiosk, counter = server.token("kiosk"), server.token("counter")
        ticket = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 3}).json()
        changed = display.wait_for("queue:changed", where=lambda d: d["service_id"] == 3)
        assert set(changed) == {"service_id", "waiting", "eta_minutes"} and changed["waiting"] >= 1
        r = server.api("POST", "/api/v1/counters/3/call-next", counter)
        assert r.status_code == 200
        called = display.wait_for("ticket:called", where=lambda d: d["ticket"]["id"] == ticket["id"])
        assert CALLED_KEYS <= set(called)
        assert called["counter"] == {"id": 3, "name": "Loket 3"}
        assert set(called["service"]) == {"id", "code", "name"} and called["service"]["code"] == "C"
        assert called["recall"] is False
        assert set(called["announcement"]) >= {"text", "audio_url"}
        assert called["ticket"]["status"] == "called"
        server.api("POST", "/api/v1/counters/3/recall", counter)
        again = display.wait_for("ticket:called", where=lambda d: d["ticket"]["id"] == ticket["id"])
        assert again["recall"] is True
        # A call tells the displays the counter's new number itself; they get counter:changed for
        # other changes (finish, pause), not a second message per call (see Publisher._counter_changed).
        assert again["ticket"]["number"] == ticket["number"] and again["counter"]["id"] == 3
        server.api("POST", "/api/v1/counters/3/finish", counter)
        board = display.wait_for("counter:changed", where=lambda d: d["counter"]["id"] == 3)
        assert board["counter"]["current_number"] is None
    finally:
        display.close()


def test_unauthenticated_clients_are_refused(server):
    for auth in ({}, {"token": "nope"}, {"track": "nope"}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            Client(server.url, auth)


def test_zone_subscription_filters_calls(server):
    kiosk, counter = server.token("kiosk"), server.token("counter")
    upstairs = Client(server.url, {"token": server.token("display")})
    try:
        upstairs.wait_for("queue:state")
        upstairs.sio.call("subscribe", {"zone": "lantai-2"}, timeout=5)
        state = upstairs.wait_for("queue:state")
        assert state["zone"] == "lantai-2" and {c["zone"] for c in state["counters"]} == {"lantai-2"}
        # Loket 1 is on lantai-1: not for this display.
        server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1})
        server.api("POST", "/api/v1/counters/1/call-next", counter)
        upstairs.none_of("ticket:called", 1.0)
        # Loket 14 (SKCK) is on lantai-2.
        t = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 19}).json()
        server.api("POST", "/api/v1/counters/14/call-next", counter)
        called = upstairs.wait_for("ticket:called")
        assert called["ticket"]["id"] == t["id"]
    finally:
        upstairs.close()


def test_tracking_client_follows_its_own_ticket(server):
    kiosk, counter = server.token("kiosk"), server.token("counter")
    mine = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 12}).json()
    other = server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 12}).json()
    phone = Client(server.url, {"track": mine["track_url"].rsplit("/", 1)[1]})
    try:
        state = phone.wait_for("queue:state")
        assert state["ticket"]["id"] == mine["id"] and state["service"]["code"] == "H"
        server.api("POST", "/api/v1/counters/9/call-next", counter)
        called = phone.wait_for("ticket:called")
        assert called["ticket"]["id"] == mine["id"]
        server.api("POST", "/api/v1/counters/9/call-next", counter)  # mine served, other called
        event = phone.wait_for("ticket:event", where=lambda e: e["type"] == "ticket.served")
        assert event["ticket"]["id"] == mine["id"]
        phone.none_of("ticket:called", 0.5)
        assert other["id"] != mine["id"]
    finally:
        phone.close()


def test_unknown_subscription_is_refused_politely(server):
    display = Client(server.url, {"token": server.token("display")})
    try:
        display.wait_for("queue:state")
        assert display.sio.call("subscribe", {"zone": 5}, timeout=5)["ok"] is False
        assert display.sio.call("subscribe", "zone", timeout=5)["ok"] is False
        assert display.sio.call("subscribe", {"counter_id": 9999}, timeout=5)["error"] == "counter_not_found"
    finally:
        display.close()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: ./antre.sh test installs it (apt-get install redis-server)"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    import redis

    client = redis.Redis(port=port)
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_two_processes_share_events_through_redis(tmp_path, redis_url):
    data = tmp_path / "shared"
    a = LiveServer(data, extra_args=["--message-queue", redis_url]).start()
    b = LiveServer(data, demo=False, extra_args=["--message-queue", redis_url]).start()
    try:
        on_b = Client(b.url, {"token": b.token("display")})
        on_a = Client(a.url, {"token": a.token("display")})
        on_b.wait_for("queue:state")
        on_a.wait_for("queue:state")
        ticket = a.api("POST", "/api/v1/tickets", a.token("kiosk"), json={"service_id": 5}).json()
        assert b.api("POST", "/api/v1/counters/1/call-next", b.token("counter")).json()["id"] == ticket["id"]
        # The call was made on B: a display connected to A sees it too, and B's own display once.
        assert on_a.wait_for("ticket:called")["ticket"]["id"] == ticket["id"]
        assert on_b.wait_for("ticket:called")["ticket"]["id"] == ticket["id"]
        on_b.none_of("ticket:called", 0.5)
        on_a.close()
        on_b.close()
    finally:
        a.stop()
        b.stop()
