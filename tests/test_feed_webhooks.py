"""Webhook delivery core (antre.webhooks) against a real HTTP receiver on loopback.

Real SQLite files, real sockets; only time is injected where a backoff
would otherwise make a test wait minutes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from antre import webhooks
from antre.queue import Queue
from antre.store import Store
from antre.webhooks import DeliveryConfig, WebhookDeliverer, WebhookService, backoff_seconds, signature
from bench.webhook_receiver import HANG, Receiver

SECRET = "s3cret-for-the-platform-0001"
FAST = DeliveryConfig(connect_timeout=0.5, read_timeout=0.4, backoff_min=1.0, backoff_max=8.0, lease_seconds=5.0)


class Wall:
    """A wall clock the test moves (backoff waits), starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def register(store: Store, url: str, secret: str = SECRET) -> int:
    """What POST /api/v1/webhooks does: deliver every event from now on."""
    with store.write() as db:
        last = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        cur = db.conn.execute(
            "INSERT INTO webhooks (url, secret, created_at, delivered_through) VALUES (?, ?, ?, ?)",
            (url, secret, datetime.now(UTC).isoformat(), last),
        )
        return int(cur.lastrowid or 0)


def issue(queue: Queue, n: int, service_id: int = 1) -> None:
    for _ in range(n):
        queue.issue(service_id)


def state(store: Store, webhook_id: int) -> dict[str, Any]:
    return webhooks.get_webhook(store, webhook_id)


@pytest.fixture
def receiver() -> Any:
    r = Receiver(secret=SECRET).start()
    yield r
    r.stop()


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def deliverer(demo_store: Store, wall: Wall) -> Any:
    d = WebhookDeliverer(demo_store, holder="test-a", config=FAST, wall=wall, rng=lambda: 1.0)
    assert d.renew_lease()
    yield d
    d.close()


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":1,"type":"ticket.issued"}'
    sig = signature("k" * 16, body)
    assert sig == "sha256=" + __import__("hmac").new(b"k" * 16, body, "sha256").hexdigest()
    assert webhooks.verify_signature("k" * 16, body, sig)
    assert not webhooks.verify_signature("k" * 16, body + b" ", sig)
    assert not webhooks.verify_signature("k" * 16, body, None)


def test_backoff_doubles_up_to_the_ceiling_with_jitter() -> None:
    top = [backoff_seconds(n, 1.0, 300.0, rng=lambda: 1.0) for n in range(1, 12)]
    assert top[:6] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert top[-1] == 300.0 and max(top) == 300.0
    low = [backoff_seconds(n, 1.0, 300.0, rng=lambda: 0.0) for n in range(1, 12)]
    assert all(1.0 <= lo <= hi for lo, hi in zip(low, top, strict=True))
    assert low[5] == 16.0  # jitter takes at most half of a step
    assert backoff_seconds(10_000, 1.0, 300.0) <= 300.0  # no overflow on a very long outage


def test_events_go_out_in_order_signed_and_the_cursor_is_stored(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver,
) -> None:
    issue(queue, 2)
    hook = register(demo_store, receiver.url)  # events before the registration are not sent
    issue(queue, 4)
    queue.call_next(1)
    result = deliverer.drain(hook)
    assert result.reason == "empty" and result.delivered == 5 and result.error is None

    expected = queue.events(after=2, limit=100)["events"]
    got = receiver.accepted()
    assert [d.event_id for d in got] == [e["id"] for e in expected]
    for delivery, event in zip(got, expected, strict=True):
        assert delivery.event == event  # the JSON event, as GET /api/v1/events shows it
        assert delivery.signed_with(SECRET)
        assert delivery.headers["x-antre-event-id"] == str(event["id"])
        assert delivery.headers["content-type"] == "application/json"
    s = state(demo_store, hook)
    assert s["delivered_through"] == expected[-1]["id"] and s["backlog"] == 0
    assert s["state"] == "ok" and s["delivered_total"] == 5 and s["last_success_at"]


def test_a_non_2xx_reply_is_retried_with_backoff_and_the_cursor_waits(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver, wall: Wall,
) -> None:
    hook = register(demo_store, receiver.url)
    issue(queue, 4)
    first = queue.events(after=0, limit=10)["events"][0]["id"]
    failing = first + 2
    receiver.plan = lambda event_id, attempt: 503 if event_id == failing and attempt <= 2 else 200

    result = deliverer.drain(hook)
    assert result.reason == "failed" and result.delivered == 2 and "HTTP 503" in (result.error or "")
    s = state(demo_store, hook)
    assert s["delivered_through"] == failing - 1  # moved only past the acknowledged events
    assert s["state"] == "retrying" and s["attempts"] == 1 and s["backlog"] == 2
    assert "HTTP 503" in s["last_error"] and s["last_error_at"]
    due = datetime.fromisoformat(s["next_attempt_at"]).timestamp() - wall.now
    assert due == pytest.approx(1.0, abs=0.01)  # first step of the backoff

    assert deliverer.drain(hook).reason == "not_due"  # nothing is sent before its time
    wall.advance(1.01)
    assert deliverer.drain(hook).reason == "failed"
    s = state(demo_store, hook)
    assert s["attempts"] == 2
    assert datetime.fromisoformat(s["next_attempt_at"]).timestamp() - wall.now == pytest.approx(2.0, abs=0.01)
    wall.advance(2.01)
    result = deliverer.drain(hook)
    assert result.reason == "empty" and result.delivered == 2
    s = state(demo_store, hook)
    assert s["attempts"] == 0 and s["next_attempt_at"] is None and s["state"] == "ok" and s["backlog"] == 0
    assert receiver.unique_accepted_ids() == list(range(first, first + 4))


def test_a_receiver_that_hangs_is_cut_off_by_the_read_timeout(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver, wall: Wall,
) -> None:
    hook = register(demo_store, receiver.url)
    issue(queue, 2)
    first = queue.events(after=0, limit=1)["events"][0]["id"]
    receiver.plan = lambda event_id, attempt: HANG if event_id == first and attempt == 1 else 200
    started = time.monotonic()
    result = deliverer.drain(hook)
    assert time.monotonic() - started < 2.0
    assert result.reason == "failed" and "no answer" in (result.error or "")
    wall.advance(1.01)
    assert deliverer.drain(hook).delivered == 2


def test_a_receiver_that_disappears_and_comes_back(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver, wall: Wall,
) -> None:
    hook = register(demo_store, receiver.url)
    issue(queue, 2)
    assert deliverer.drain(hook).delivered == 2
    receiver.stop()
    issue(queue, 3)
    result = deliverer.drain(hook)
    assert result.reason == "failed" and "connection failed" in (result.error or "")
    receiver.start()  # same port
    wall.advance(1.01)
    assert deliverer.drain(hook).delivered == 3
    assert len(receiver.unique_accepted_ids()) == 5


def test_only_the_lease_holder_delivers_and_a_fenced_out_process_cannot_move_a_cursor(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver, wall: Wall,
) -> None:
    other = WebhookDeliverer(demo_store, holder="test-b", config=FAST, wall=wall)
    assert not other.renew_lease()  # "test-a" holds it
    hook = register(demo_store, receiver.url)
    issue(queue, 3)
    assert other.drain(hook).reason == "lease_lost"
    assert receiver.deliveries == []
    # Even a process that wrongly believes it holds the lease cannot move the cursor.
    last = queue.last_event_id()
    assert other._store_progress(hook, last, 3) is False
    assert state(demo_store, hook)["delivered_through"] == last - 3
    # When the holder goes quiet past the lease, the other process takes over.
    wall.advance(FAST.lease_seconds + 0.1)
    assert other.renew_lease()
    assert not deliverer.renew_lease()
    assert other.drain(hook).delivered == 3
    other.close()


def test_a_paused_webhook_keeps_its_backlog_and_resume_delivers_it(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver,
) -> None:
    hook = register(demo_store, receiver.url)
    paused = webhooks.set_active(demo_store, hook, False, "admin:test")
    assert paused["state"] == "paused" and paused["active"] is False
    issue(queue, 3)
    assert deliverer.due_endpoints() == []
    assert deliverer.drain(hook).reason == "inactive"
    assert state(demo_store, hook)["backlog"] == 3
    resumed = webhooks.set_active(demo_store, hook, True, "admin:test")
    assert resumed["state"] == "delivering"
    assert deliverer.due_endpoints() == [hook]
    assert deliverer.drain(hook).delivered == 3


def test_a_stuck_endpoint_does_not_hold_up_the_others(queue: Queue, demo_store: Store) -> None:
    stuck, healthy = Receiver(secret=SECRET).start(), Receiver(secret=SECRET).start()
    stuck.plan = lambda _event_id, _attempt: HANG
    stuck.hang_seconds = 5
    config = DeliveryConfig(connect_timeout=0.5, read_timeout=2.0, backoff_min=0.2, backoff_max=1.0, lease_seconds=5)
    service = WebhookService(WebhookDeliverer(demo_store, holder="svc", config=config), tick=0.05)
    try:
        register(demo_store, stuck.url)
        register(demo_store, healthy.url)
        service.start()
        issue(queue, 20)
        service.wake()
        started = time.monotonic()
        healthy.wait_for(lambda: len(healthy.unique_accepted_ids()) == 20, 5.0, "20 events at the healthy endpoint")
        # all twenty arrived while the stuck endpoint was still hanging on its first event
        assert time.monotonic() - started < 2.0
        assert healthy.unique_accepted_ids() == sorted(healthy.unique_accepted_ids())
        assert stuck.accepted() == []
    finally:
        service.stop()
        stuck.stop()
        healthy.stop()


def test_delivery_settings_come_from_the_database_and_bad_values_fall_back(demo_store: Store) -> None:
    with demo_store.write() as db:
        demo_store.set_setting(db, "webhook_read_timeout_s", 2.5)
        demo_store.set_setting(db, "webhook_backoff_max_s", "lots")
        demo_store.set_setting(db, "webhook_connect_timeout_s", -1)
    with demo_store.read() as db:
        config = DeliveryConfig.from_db(demo_store, db)
    assert config.read_timeout == 2.5
    assert config.backoff_max == 300.0 and config.connect_timeout == 3.0


def test_event_body_is_compact_json_of_the_event() -> None:
    body = webhooks.event_body(7, "ticket.called", "2026-11-23T08:00:00+07:00", json.dumps({"id": 3, "number": "A003"}))
    assert json.loads(body) == {"id": 7, "type": "ticket.called", "occurred_at": "2026-11-23T08:00:00+07:00",
                                "ticket": {"id": 3, "number": "A003"}}
    assert b" " not in body


def test_a_proxy_from_the_environment_is_used(
    queue: Queue, demo_store: Store, deliverer: WebhookDeliverer, receiver: Receiver, monkeypatch: Any,
) -> None:
    """A building whose way out is a proxy: the webhook goes through it (here the receiver plays the proxy)."""
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{receiver.port}")
    monkeypatch.delenv("no_proxy", raising=False)
    hook = register(demo_store, "http://127.0.0.1:9/antre/hook?src=mpp")  # port 9: nothing listens
    issue(queue, 2)
    assert deliverer.drain(hook).delivered == 2
    assert [d.event_id for d in receiver.accepted()] == [queue.last_event_id() - 1, queue.last_event_id()]
    assert all(d.signed_with(SECRET) for d in receiver.accepted())
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    deliverer.forget(hook)
    issue(queue, 1)
    result = deliverer.drain(hook)  # now direct, to the closed port
    assert result.reason == "failed" and "connection failed" in (result.error or "")
