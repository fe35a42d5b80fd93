"""Tickets per second over HTTP: a real server process, N concurrent kiosk clients.

    .venv/bin/python -m bench.http_issue [--clients 8] [--tickets 3000]

Each client is a keep-alive HTTP session posting ``POST /api/v1/tickets``; the
figure counts only 201 answers, and the run checks that no number repeats.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live import LiveServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=str(Path(__file__).resolve().parent)) as tmp, \
            LiveServer(Path(tmp) / "data") as server:
        token = server.token("kiosk")
        services = [s["id"] for s in server.api("GET", "/api/v1/services", token).json() if s["quota_left"] is None]
        per_client = args.tickets // args.clients
        latencies: list[float] = []
        numbers: list[tuple[int, str]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            mine, got = [], []
            for i in range(per_client):
                sid = services[(i * args.clients + n) % len(services)]
                t0 = time.perf_counter()
                r = session.post(f"{server.url}/api/v1/tickets", json={"service_id": sid}, timeout=30)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                got.append((sid, r.json()["number"]))
            with lock:
                latencies.extend(mine)
                numbers.extend(got)

        # Warm up the connection pool and the server.
        requests.get(f"{server.url}/healthz", timeout=5)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    assert not errors, errors[:5]
    assert len(set(numbers)) == len(numbers), "a number was handed out twice"
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"HTTP issue, {args.clients} clients: {len(numbers) / elapsed:,.0f} tickets/s "
          f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(numbers)} tickets, no duplicate)")


if __name__ == "__main__":
    main()
