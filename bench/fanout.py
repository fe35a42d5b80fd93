"""Call fan-out: "call next" -> ``ticket:called`` at every connected display.

    .venv/bin/python -m bench.fanout [--clients 200] [--hold 1000] [--calls 60] [--procs 4]

A real server process on a demo MPP; display clients connected with a display
token, in several processes at a lower priority (they stand for screens on
other machines): python-socketio clients, and minimal Socket.IO clients that
cost the CPU they share with the server much less (bench/fanout_clients.py).
For each call the latency of a display is from the moment
the "call next" request is sent to the moment that display has the event;
a call's figure is that of its LAST display ("all received").  Reported:
p50 and p99 over the calls of "all received", and of every single delivery.

Run 1: ``--clients`` displays (target p99 <= 50 ms).  Run 2: ``--hold``
displays connected at once (target p99 <= 200 ms, server RSS < 150 MB).
Each call is measured on its own: the next one is made once every display
has the previous one (and ``--gap`` more, for the coalesced ``queue:changed``
that follows each call).  The tickets are issued first and their audio is
left to be prepared before the calls start, so that the figure is the
fan-out alone.  Each run has a fresh server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout_clients import run_worker  # noqa: E402
from tests.support.live import LiveServer  # noqa: E402

#: Loket 13 alone serves PBB: one sentence per ticket to prepare
SERVICE_CODE = "PBB"
COUNTER_ID = 13


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))


def wait_audio_idle(audio_dir: Path, quiet_s: float = 2.0, timeout: float = 300.0) -> int:
    """Wait until the server has stopped adding prepared sentences; return how many there are."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(list(audio_dir.glob("*.wav")))
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return count
        time.sleep(0.2)
    return last


class Peak:
    """The highest RSS of a process, sampled every 50 ms in a thread until stopped."""

    def __init__(self, proc: Any) -> None:
        import threading

        self.proc = proc
        self.peak = proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


class Displays:
    """N display clients spread over P worker processes."""

    def __init__(self, url: str, token: str, clients: int, procs: int, fetch_audio: bool = False,
                 kind: str = "socketio") -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Any] = []
        self.procs: list[Any] = []
        self.counters: list[Any] = []
        per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        for count in per:
            if not count:
                continue
            parent, child = ctx.Pipe()
            received = ctx.Value("q", 0, lock=False)  # written by that worker only
            self.counters.append(received)
            proc = ctx.Process(target=run_worker, args=(url, token, count, fetch_audio, child, received, kind),
                               daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.connected = self.failed = 0
        for pipe in self.pipes:
            _tag, connected, failed = pipe.recv()
            self.connected += connected
            self.failed += failed

    def received(self) -> int:
        """Calls received so far, summed over every display."""
        return sum(c.value for c in self.counters)

    def wait_received(self, total: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.received() < total:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def finish(self) -> list[tuple[int, int, int, float, float | None, int]]:
        """Stop the workers; every record as (worker, client, ticket_id, received, audio_done, bytes)."""
        for pipe in self.pipes:
            pipe.send(("stop",))
        out = []
        for w, pipe in enumerate(self.pipes):
            _tag, records = pipe.recv()
            out.extend((w, *r) for r in records)
        for proc in self.procs:
            proc.join(10)
        return out


def measure(server: LiveServer, tokens: dict[str, str], displays: Displays, calls: int, gap: float) -> dict[str, Any]:
    import psutil
    import requests

    server_proc = psutil.Process(server.proc.pid)
    cpu_before = sum(server_proc.cpu_times()[:2])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens['counter']}"
    sent: dict[int, float] = {}
    answered: list[float] = []
    base = displays.received()
    for i in range(calls):
        t0 = time.monotonic()
        r = session.post(f"{server.url}/api/v1/counters/{COUNTER_ID}/call-next", timeout=30)
        answered.append((time.monotonic() - t0) * 1000)
        r.raise_for_status()
        sent[r.json()["id"]] = t0
        displays.wait_received(base + (i + 1) * displays.connected, timeout=10)
        time.sleep(gap)
    time.sleep(0.5)
    cpu_per_call = (sum(server_proc.cpu_times()[:2]) - cpu_before) / calls * 1000
    records = displays.finish()
    per_call: dict[int, list[float]] = {tid: [] for tid in sent}
    for _w, _c, ticket_id, received, _audio, _bytes in records:
        if ticket_id in per_call:
            per_call[ticket_id].append((received - sent[ticket_id]) * 1000)
    complete = [max(v) for v in per_call.values() if len(v) == displays.connected]
    deliveries = [x for v in per_call.values() for x in v]
    missing = sum(displays.connected - len(v) for v in per_call.values())
    return {
        "calls": len(sent), "displays": displays.connected, "failed_to_connect": displays.failed,
        "missing_deliveries": missing,
        "all_received_p50_ms": percentile(complete, 50) if complete else None,
        "all_received_p99_ms": percentile(complete, 99) if complete else None,
        "all_received_max_ms": max(complete) if complete else None,
        "delivery_p50_ms": percentile(deliveries, 50), "delivery_p99_ms": percentile(deliveries, 99),
        "answer_p50_ms": percentile(answered, 50), "answer_p99_ms": percentile(answered, 99),
        "server_cpu_ms_per_call": cpu_per_call,
    }


def show(title: str, result: dict[str, Any], target_ms: float) -> None:
    ok = result["all_received_p99_ms"] is not None and result["all_received_p99_ms"] <= target_ms \
        and result["missing_deliveries"] == 0
    print(f"\n{title}")
    print(f"  displays connected      {result['displays']} (failed {result['failed_to_connect']})")
    print(f"  calls                   {result['calls']}, deliveries missing {result['missing_deliveries']}")
    print(f"  all received  p50/p99   {result['all_received_p50_ms']:.1f} / {result['all_received_p99_ms']:.1f} ms"
          f"  (max {result['all_received_max_ms']:.1f})   target p99 <= {target_ms:.0f} ms: "
          f"{'met' if ok else 'MISSED'}")
    print(f"  each delivery p50/p99   {result['delivery_p50_ms']:.1f} / {result['delivery_p99_ms']:.1f} ms")
    print(f"  HTTP answer   p50/p99   {result['answer_p50_ms']:.1f} / {result['answer_p99_ms']:.1f} ms"
          " (call next, for comparison)")
    print(f"  server CPU per call     {result['server_cpu_ms_per_call']:.1f} ms")


def main() -> None:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--hold", type=int, default=1000, help="displays held connected in the second run (0: skip)")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--procs", type=int, default=4, help="client processes per 200 displays")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds the displays are held connected before the RSS is read and the calls start")
    parser.add_argument("--client", choices=["socketio", "raw", "both"], default="both",
                        help="python-socketio clients, minimal ones (the server's own fan-out), or both")
    parser.add_argument("--gap", type=float, default=0.3,
                        help="seconds between one call's last delivery and the next call")
    args = parser.parse_args()
    raise_nofile(max(4096, 4 * max(args.clients, args.hold) + 512))
    kinds = ["socketio", "raw"] if args.client == "both" else [args.client]
    runs = [(n, target, kind) for n, target in [(args.clients, 50.0)] + ([(args.hold, 200.0)] if args.hold else [])
            for kind in kinds]
    print(f"{psutil.cpu_count()} CPUs, load {psutil.getloadavg()[0]:.1f}")
    for clients, target, kind in runs:
        with tempfile.TemporaryDirectory(prefix="antre-fanout-") as tmp, LiveServer(Path(tmp) / "data") as server:
            tokens = {role: server.token(role) for role in ("display", "counter", "kiosk")}
            service = next(s["id"] for s in server.api("GET", "/api/v1/services", tokens["kiosk"]).json()
                           if s["code"] == SERVICE_CODE)
            for _ in range(args.calls + 2):
                server.api("POST", "/api/v1/tickets", tokens["kiosk"], json={"service_id": service}) \
                    .raise_for_status()
            prepared = wait_audio_idle(server.data_dir / "audio")
            proc = psutil.Process(server.proc.pid)
            rss_before = proc.memory_info().rss / 2**20
            procs = max(1, round(args.procs * clients / 200))
            peak = Peak(proc)
            started = time.monotonic()
            displays = Displays(server.url, tokens["display"], clients, procs, kind=kind)
            connect_s = time.monotonic() - started
            # Read after --settle seconds connected, and again after the calls (memory the connection
            # burst left behind is partly returned by then); the peak is sampled every 50 ms.
            time.sleep(args.settle)
            rss_peak = peak.stop()
            rss_held = proc.memory_info().rss / 2**20
            result = measure(server, tokens, displays, args.calls, args.gap)
            rss_after = proc.memory_info().rss / 2**20
            show(f"{clients} displays, {kind} clients ({procs} processes, connected in {connect_s:.1f} s; "
                 f"{prepared} sentences prepared before; load {psutil.getloadavg()[0]:.1f})", result, target)
            verdict = f"  (target < 150 MB: {'met' if rss_after < 150 else 'MISSED'})" if clients >= 1000 else ""
            print(f"  server RSS              {rss_before:.1f} MB before; {displays.connected} displays connected "
                  f"{args.settle:.0f} s: {rss_held:.1f} MB; held through the calls: {rss_after:.1f} MB{verdict}")
            print(f"                          (peak {rss_peak:.1f} MB while they all connected at once)")


if __name__ == "__main__":
    main()
