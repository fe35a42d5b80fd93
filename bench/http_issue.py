"""Tickets per second over HTTP: a real server process, N concurrent kiosk clients.

    .venv/bin/python -m bench.http_issue [--clients 8] [--tickets 3000]

Each client is a keep-alive HTTP session posting ``POST /api/v1/tickets``; the
figure counts only 201 answers, and the run checks that no number repeats.
"""

from __future__ import annotations

import argparse
import http.client
import json
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
    parser.add_argument("--services", type=int, default=8, help="how many services the tickets spread over")
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--role", default="kiosk", choices=["kiosk", "admin"],
                        help="kiosk: each ticket is also rendered and queued for printing; admin: API only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=str(Path(__file__).resolve().parent)) as tmp, \
            LiveServer(Path(tmp) / "data") as server:
        token = server.token(args.role)
        services = [s["id"] for s in server.api("GET", "/api/v1/services", token).json()
                    if s["quota_left"] is None][: args.services]
        per_client = args.tickets // args.clients
        latencies: list[float] = []
        numbers: list[tuple[int, str]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            # http.client with keep-alive: a light client, so that the 2-core machine's
            # CPU goes to the server rather than to the load generator.
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            mine, got = [], []
            for i in range(per_client):
                sid = services[(i * args.clients + n) % len(services)]
                t0 = time.perf_counter()
                conn.request("POST", "/api/v1/tickets", body=json.dumps({"service_id": sid}), headers=headers)
                response = conn.getresponse()
                body = response.read()
                mine.append(time.perf_counter() - t0)
                if response.status != 201:
                    errors.append(f"{response.status} {body[:200]!r}")
                    continue
                got.append((sid, json.loads(body)["number"]))
            conn.close()
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
    print(f"HTTP issue as {args.role}, {args.clients} clients: {len(numbers) / elapsed:,.0f} tickets/s "
          f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(numbers)} tickets, no duplicate)")


if __name__ == "__main__":
    main()
