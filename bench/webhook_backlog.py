"""Benchmark: how fast a webhook backlog drains once the platform answers again.

A real server process (gevent, as in production) holds 10,000 undelivered
events for a webhook whose receiver has been away ("no internet" for hours);
the receiver (a threaded HTTP/1.1 server on loopback) comes up, and the
benchmark measures from its first accepted delivery to the last:

    ./.venv/bin/python bench/webhook_backlog.py [--events 10000]

The target is 500 events/s or more.  Every event is also checked: all
arrived, in order after dropping duplicates, correctly signed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antre.clock import Clock  # noqa: E402
from antre.demo import seed_demo  # noqa: E402
from antre.queue import SYSTEM, Queue  # noqa: E402
from antre.store import Store  # noqa: E402
from bench.webhook_receiver import Receiver  # noqa: E402
from tests.support.live import LiveServer, free_port  # noqa: E402

TARGET = 500.0
SECRET = "bench-secret-0123456789abcdef"


def fill(data_dir: Path, events: int, url: str) -> int:
    """A demo MPP with a webhook registered before ``events`` ticket events; returns the last event id."""
    store = Store(data_dir)
    try:
        seed_demo(store)
        queue = Queue(store, Clock(), "http://antre.local")
        with store.write() as db:
            db.conn.execute(
                "INSERT INTO webhooks (url, secret, created_at, delivered_through) VALUES (?, ?, ?, 0)",
                (url, SECRET, datetime.now(UTC).isoformat()),
            )
            # the receiver is away: retry soon once it is back (a building's admin would press "resume")
            store.set_setting(db, "webhook_backoff_max_s", 0.5)
            services = [r[0] for r in db.conn.execute(
                "SELECT id FROM services WHERE quota_walkin IS NULL AND active = 1 ORDER BY id")]
        started = time.perf_counter()

        def issue_many(db: Any, count: int) -> None:
            for n in range(count):
                queue._issue(db, services[n % len(services)], priority=False, lang="id", actor=SYSTEM)

        for start in range(0, events, 500):  # real tickets and events, 500 to a transaction
            store.run_write(lambda db, count=min(500, events - start): issue_many(db, count))
        print(f"outbox filled: {events} events in {time.perf_counter() - started:.1f} s", flush=True)
        return queue.last_event_id()
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="antre-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        receiver = Receiver(secret=SECRET, port=free_port())
        last = fill(data_dir, args.events, receiver.url)
        server = LiveServer(data_dir, demo=False).start()
        try:
            time.sleep(1.0)  # the server finds the receiver away and backs off
            up = time.perf_counter()
            receiver.start()
            # a cheap test (no copying): the receiver's threads should not wait for ours
            receiver.wait_for(lambda: len(receiver.deliveries) >= args.events
                              and len(receiver.accepted()) >= args.events, 600, "complete backlog")
            done = time.perf_counter()
            accepted = receiver.accepted()
            first_at, last_at = accepted[0].at, accepted[-1].at
        finally:
            server.stop()
            receiver.stop()

    ids = receiver.unique_accepted_ids()
    signed = all(d.signed_with(SECRET) for d in receiver.deliveries)
    in_order = ids == list(range(last - args.events + 1, last + 1))
    duplicates = len(accepted) - len(ids)
    rate = (len(ids) - 1) / (last_at - first_at) if last_at > first_at else float("inf")
    print(f"receiver up -> backlog delivered: {done - up:.2f} s (includes the wait for the next retry)")
    print(f"drain: {len(ids)} events in {last_at - first_at:.2f} s = {rate:,.0f} events/s "
          f"(target {TARGET:.0f}/s: {'met' if rate >= TARGET else 'NOT MET'})")
    print(f"checks: in order {in_order}, all signed {signed}, duplicates {duplicates}")
    return 0 if rate >= TARGET and in_order and signed else 1


if __name__ == "__main__":
    sys.exit(main())
