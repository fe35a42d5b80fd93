"""Durable tickets per second through the core (no HTTP).

Every ticket is committed to a real SQLite file in WAL mode with
synchronous=FULL, with its event and its audit row, before the call returns.

    .venv/bin/python -m bench.core_issue [--tickets 4000] [--threads 1,8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antre.demo import seed_demo  # noqa: E402
from antre.queue import Actor, Queue  # noqa: E402
from antre.store import Store  # noqa: E402


def run(tickets: int, threads: int, data_dir: Path) -> dict[str, float]:
    store = Store(data_dir)
    seed_demo(store)
    queue = Queue(store)
    services = [s["id"] for s in queue.services() if s["quota_left"] is None]
    per_thread = tickets // threads
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        actor = Actor(f"kiosk-{n}", "kiosk")
        mine = []
        for i in range(per_thread):
            t0 = time.perf_counter()
            queue.issue(services[(i * threads + n) % len(services)], actor=actor)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    with store.read() as db:
        count = db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        dupes = db.conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY origin_service_id, day, seq HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    store.close()
    assert count == per_thread * threads and dupes == 0
    latencies.sort()
    return {
        "tickets": count,
        "per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--dir", default=None, help="Where to put the database (default: a temp dir on disk).")
    args = parser.parse_args()
    for threads in [int(x) for x in args.threads.split(",")]:
        with tempfile.TemporaryDirectory(dir=args.dir or str(Path(__file__).resolve().parent)) as tmp:
            r = run(args.tickets, threads, Path(tmp))
        print(f"core issue, {threads} writer thread(s): {r['per_second']:,.0f} durable tickets/s "
              f"(p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, {r['tickets']} tickets, no duplicate)")


if __name__ == "__main__":
    main()
