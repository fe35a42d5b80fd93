"""Displays as Socket.IO clients of a real server: the call event, zones, reconnects, audio ready ahead.

A real ``server.py serve`` process (gevent) and real python-socketio clients.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.support.live import LiveServer

TICKET_KEYS = {"id", "number", "service_id", "priority", "status", "issued_at", "called_at", "counter_id",
               "position", "eta_minutes", "track_url"}


class Screen:
    """A display's socket: records every event it gets."""

    def __init__(self, server: LiveServer, token: str, zone: str | None = None) -> None:
        self.url = server.url
        self.auth: dict[str, Any] = {"token": token}
        if zone:
            self.auth["zone"] = zone
        self.events: list[tuple[str, Any, float]] = []
        self.cond = threading.Condition()
        self.sio = self._client()

    def _client(self) -> socketio.Client:
        sio = socketio.Client(reconnection=False)
        sio.on("*", self._record)
        return sio

    def _record(self, event: str, data: Any = None) -> None:
        with self.cond:
            self.events.append((event, data, time.perf_counter()))
            self.cond.notify_all()

    def connect(self) -> Screen:
        if self.sio.connected or self.sio.eio.state != "disconnected":
            self.sio = self._client()
        self.sio.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=10)
        self.wait(lambda e: e[0] == "queue:state")
        return self

    def wait(self, match: Callable[[tuple[str, Any, float]], bool], timeout: float = 10.0,
             after: int = 0) -> tuple[str, Any, float]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[after:]:
                    if match(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event in {timeout} s; got {[x[0] for x in self.events]}")
                self.cond.wait(left)

    def calls(self, after: int = 0) -> list[dict[str, Any]]:
        with self.cond:
            return [data for name, data, _t in self.events[after:] if name == "ticket:called"]

    def close(self, wait: bool = True) -> None:
        """Drop the connection, as a display losing its network does.

        The client waits up to 3 s for the server's websocket close frame;
        ``wait=False`` leaves that to a thread (for the end of a test).
        """
        if wait:
            self.sio.eio.disconnect(abort=True)
        else:
            threading.Thread(target=self.sio.eio.disconnect, kwargs={"abort": True}, daemon=True).start()


@pytest.fixture(scope="module")
def server(module_live_server: LiveServer) -> LiveServer:
    return module_live_server


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> dict[str, str]:
    return {role: server.token(role) for role in ("display", "counter", "kiosk")}


@pytest.fixture
def screens(server: LiveServer, tokens: dict[str, str]) -> Iterator[Callable[..., Screen]]:
    made: list[Screen] = []

    def make(zone: str | None = None) -> Screen:
        screen = Screen(server, tokens["display"], zone).connect()
        made.append(screen)
        return screen

    yield make
    for s in made:
        s.close(wait=False)


def services(server: LiveServer, tokens: dict[str, str]) -> dict[str, int]:
    return {s["code"]: s["id"] for s in server.api("GET", "/api/v1/services", tokens["kiosk"]).json()}


def issue(server: LiveServer, tokens: dict[str, str], code: str) -> dict[str, Any]:
    r = server.api("POST", "/api/v1/tickets", tokens["kiosk"], json={"service_id": services(server, tokens)[code]})
    assert r.status_code == 201, r.text
    return r.json()


def call_next(server: LiveServer, tokens: dict[str, str], counter_id: int) -> dict[str, Any]:
    r = server.api("POST", f"/api/v1/counters/{counter_id}/call-next", tokens["counter"])
    assert r.status_code == 200, r.text
    return r.json()


def test_ticket_called_has_the_contract_shape_and_a_playable_sentence(server: LiveServer, tokens: dict[str, str],
                                                                      screens: Callable[..., Screen]) -> None:
    screen = screens()
    issue(server, tokens, "A")
    sent = time.perf_counter()
    ticket = call_next(server, tokens, 1)
    _name, payload, received = screen.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == ticket["id"])
    assert received - sent < 1.0
    assert {"ticket", "counter", "service", "recall", "announcement"} <= set(payload)
    assert set(payload) - {"ticket", "counter", "service", "recall", "announcement"} <= {"event_id"}
    assert set(payload["ticket"]) == TICKET_KEYS
    assert payload["ticket"]["number"] == ticket["number"] and payload["ticket"]["status"] == "called"
    assert payload["counter"] == {"id": 1, "name": "Loket 1"}
    assert set(payload["service"]) == {"id", "code", "name"} and payload["service"]["code"] == "A"
    assert payload["recall"] is False
    announcement = payload["announcement"]
    assert set(announcement) == {"text", "audio_url"}
    from speech.numbers import number_words

    words = number_words(int(ticket["number"][1:]), "id")
    assert announcement["text"] == f"Nomor antrian a, {words}, silakan menuju loket satu"
    assert announcement["audio_url"].startswith(server.url + "/display/audio/")
    r = requests.get(announcement["audio_url"], headers={"Authorization": "Bearer " + tokens["display"]}, timeout=20)
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    assert requests.get(announcement["audio_url"], timeout=10).status_code == 401

    # A recall re-announces: the same sentence, its own event.
    r = server.api("POST", "/api/v1/counters/1/recall", tokens["counter"])
    assert r.status_code == 200, r.text
    _n, again, _t = screen.wait(lambda e: e[0] == "ticket:called" and e[1]["recall"] is True)
    assert again["announcement"] == announcement
    assert again["event_id"] > payload["event_id"]


def test_audio_is_prepared_when_the_ticket_is_issued(server: LiveServer, tokens: dict[str, str],
                                                     screens: Callable[..., Screen]) -> None:
    audio_dir = server.data_dir / "audio"

    def sentences() -> set[str]:
        return {p.name for p in audio_dir.glob("*.wav") if len(p.stem) == 64}

    def settled() -> set[str]:
        """The prepared sentences once none has appeared for 0.3 s (what earlier tests queued is made)."""
        last, since = sentences(), time.monotonic()
        while time.monotonic() - since < 0.3:
            time.sleep(0.05)
            if (now := sentences()) != last:
                last, since = now, time.monotonic()
        return last

    screen = screens()
    before = settled()
    issue(server, tokens, "AE")  # Pendaftaran Haji: only Loket 21 serves it
    deadline = time.monotonic() + 20
    while not sentences() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    prepared = sentences() - before
    assert len(prepared) == 1
    ticket = call_next(server, tokens, 21)
    _n, payload, received = screen.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == ticket["id"])
    key = Path(payload["announcement"]["audio_url"].split("?")[0]).name
    assert key in prepared
    started = time.perf_counter()
    r = requests.get(payload["announcement"]["audio_url"], headers={"Authorization": "Bearer " + tokens["display"]},
                     timeout=10)
    assert r.status_code == 200
    assert time.perf_counter() - started < 0.3  # served from the cache, nothing to synthesize


def test_zones_get_only_their_calls(server: LiveServer, tokens: dict[str, str],
                                    screens: Callable[..., Screen]) -> None:
    floor1, floor2, everywhere = screens("lantai-1"), screens("lantai-2"), screens()
    state1 = next(d for n, d, _t in floor1.events if n == "queue:state")
    assert state1["zone"] == "lantai-1" and {c["zone"] for c in state1["counters"]} == {"lantai-1"}
    mark = [len(s.events) for s in (floor1, floor2, everywhere)]
    issue(server, tokens, "A")
    issue(server, tokens, "S")
    issue(server, tokens, "B")
    first = call_next(server, tokens, 1)    # Loket 1, lantai-1
    second = call_next(server, tokens, 14)  # Loket 14, lantai-2
    barrier = call_next(server, tokens, 2)  # Loket 2, lantai-1: floor1 gets it after anything sent before
    floor1.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == barrier["id"])
    floor2.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == second["id"])
    everywhere.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == barrier["id"])
    ids = [[c["ticket"]["id"] for c in s.calls(m)] for s, m in zip((floor1, floor2, everywhere), mark, strict=True)]
    assert ids[0] == [first["id"], barrier["id"]]
    assert ids[1] == [second["id"]]
    assert ids[2] == [first["id"], second["id"], barrier["id"]]

    # A screen may move to another zone: a fresh snapshot, then only that zone's calls.
    ack = everywhere.sio.call("subscribe", {"zone": "lantai-2"}, timeout=5)
    assert ack == {"ok": True, "zone": "lantai-2"}
    mark = len(everywhere.events)
    issue(server, tokens, "A")
    issue(server, tokens, "SP")
    call_next(server, tokens, 1)
    moved = call_next(server, tokens, 14)
    everywhere.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == moved["id"], after=mark)
    assert [c["ticket"]["id"] for c in everywhere.calls(mark)] == [moved["id"]]


def test_a_reconnect_gets_the_state_and_no_replayed_call(server: LiveServer, tokens: dict[str, str],
                                                         screens: Callable[..., Screen]) -> None:
    screen = screens()
    issue(server, tokens, "E")
    seen = call_next(server, tokens, 7)
    _n, live, _t = screen.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == seen["id"])
    screen.close()
    issue(server, tokens, "E")
    missed = call_next(server, tokens, 8)  # made while the display was away
    mark = len(screen.events)
    screen.connect()
    _n, state, _t = screen.wait(lambda e: e[0] == "queue:state", after=mark)
    recent = {c["event_id"]: c for c in state["recent_calls"]}
    assert live["event_id"] in recent
    missed_call = next(c for c in state["recent_calls"] if c["number"] == missed["number"])
    assert missed_call["event_id"] > live["event_id"]
    assert missed_call["counter"] == {"id": 8, "name": "Loket 8"} and missed_call["recall"] is False
    assert state["last_event_id"] >= missed_call["event_id"]
    assert [c["event_id"] for c in state["recent_calls"]] == sorted(recent, reverse=True)
    # Nothing is sent again as a new call; the display decides from the snapshot.
    time.sleep(0.5)
    assert screen.calls(mark) == []
    counter8 = next(c for c in state["counters"] if c["id"] == 8)
    assert counter8["current_number"] == missed["number"]


def test_speech_runs_in_a_worker_process_that_is_replaced_when_it_dies(server: LiveServer, tokens: dict[str, str],
                                                                       screens: Callable[..., Screen]) -> None:
    import psutil

    def workers() -> list[psutil.Process]:
        return [p for p in psutil.Process(server.proc.pid).children()
                if "antre.announce" in " ".join(p.cmdline())]

    first = workers()
    assert len(first) == 1  # espeak-ng is not loaded in the server itself
    assert not any("espeak" in m.path for m in psutil.Process(server.proc.pid).memory_maps())
    first[0].kill()
    first[0].wait(5)
    screen = screens()
    issue(server, tokens, "AF")  # Loket 21
    ticket = call_next(server, tokens, 21)
    _n, payload, _t = screen.wait(lambda e: e[0] == "ticket:called" and e[1]["ticket"]["id"] == ticket["id"])
    r = requests.get(payload["announcement"]["audio_url"], headers={"Authorization": "Bearer " + tokens["display"]},
                     timeout=30)
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    replaced = workers()
    assert len(replaced) == 1 and replaced[0].pid != first[0].pid
