""""Call next" -> the call's audio ready at the display: event received and WAV fetched complete.

    .venv/bin/python -m bench.display_audio [--displays 8] [--calls 60]

A real server process on a demo MPP (speech on its default backend, pyttsx3
driving espeak-ng); ``--displays`` display clients (python-socketio) that,
like the display page, fetch a call's ``audio_url`` the moment its
``ticket:called`` arrives.  The latency of a display is from the moment the
"call next" request is sent to the moment its WAV is complete.

Warm (the normal case): tickets issued beforehand, so their audio was
prepared ahead (at issue for the next few of a queue, then topped up after
each call).  Target p95 <= 300 ms.  Cold (informative): a ticket
called the moment it was issued, before its audio could be prepared: the
announcement hook queues it as urgent and the audio route makes it on demand.

Also printed: the CPU the speech worker process spent per sentence it
prepared ahead (synthesis and joining; it runs below the server's priority),
the cost that competes with ticket requests on a small machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import Displays, percentile, raise_nofile, wait_audio_idle  # noqa: E402
from tests.support.live import LiveServer  # noqa: E402

#: services served by one counter each (one sentence to prepare per ticket), and that counter
SINGLE_COUNTER = {"PBB": 13, "SIM": 15, "X": 19, "AE": 21, "AG": 22, "AL": 25, "AN": 26}


def run_calls(server: LiveServer, tokens: dict[str, str], displays: Displays, plan: list[tuple[str, int]],
              gap: float, issue_first: bool, services: dict[str, int]) -> dict[str, Any]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens['counter']}"
    kiosk = requests.Session()
    kiosk.headers["Authorization"] = f"Bearer {tokens['kiosk']}"
    sent: dict[int, float] = {}
    base = displays.received()
    for i, (code, counter_id) in enumerate(plan):
        if issue_first:
            kiosk.post(f"{server.url}/api/v1/tickets", json={"service_id": services[code]}, timeout=30) \
                .raise_for_status()
        t0 = time.monotonic()
        r = session.post(f"{server.url}/api/v1/counters/{counter_id}/call-next", timeout=30)
        r.raise_for_status()
        sent[r.json()["id"]] = t0
        displays.wait_received(base + (i + 1) * displays.connected, timeout=30)  # every WAV fetched
        time.sleep(gap)
    time.sleep(0.5)
    records = displays.finish()
    ready: list[float] = []
    received: list[float] = []
    per_call: dict[int, list[float]] = {}
    failed = sizes = 0
    for _w, _c, ticket_id, got, audio_done, size in records:
        if ticket_id not in sent:
            continue
        received.append((got - sent[ticket_id]) * 1000)
        if audio_done is None:
            failed += 1
            continue
        sizes += size
        ms = (audio_done - sent[ticket_id]) * 1000
        ready.append(ms)
        per_call.setdefault(ticket_id, []).append(ms)
    all_ready = [max(v) for v in per_call.values() if len(v) == displays.connected]
    return {
        "calls": len(sent), "fetches": len(ready), "failed": failed,
        "mean_kb": sizes / max(1, len(ready)) / 1024,
        "event_p50": percentile(received, 50), "event_p95": percentile(received, 95),
        "ready_p50": percentile(ready, 50), "ready_p95": percentile(ready, 95), "ready_max": max(ready),
        "all_p50": percentile(all_ready, 50) if all_ready else None,
        "all_p95": percentile(all_ready, 95) if all_ready else None,
    }


def speech_worker(server: LiveServer, timeout: float = 20.0) -> Any:
    """The server's speech worker process (started by the server's warm-up), or None."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(server.proc.pid).children():
            try:
                if "antre.announce" in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        time.sleep(0.1)
    return None


def cpu_seconds(proc: Any) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def sentences(audio_dir: Path) -> int:
    """Prepared sentences (64-hex names; not the chime)."""
    return sum(1 for p in audio_dir.glob("*.wav") if len(p.stem) == 64)


def show(title: str, r: dict[str, Any], target: float | None) -> None:
    print(f"\n{title}")
    print(f"  calls {r['calls']}, audio fetches {r['fetches']} (failed {r['failed']}), WAV {r['mean_kb']:.0f} KB")
    print(f"  event received      p50/p95  {r['event_p50']:.1f} / {r['event_p95']:.1f} ms")
    verdict = "" if target is None else \
        f"   target p95 <= {target:.0f} ms: {'met' if r['ready_p95'] <= target else 'MISSED'}"
    print(f"  audio ready         p50/p95  {r['ready_p50']:.1f} / {r['ready_p95']:.1f} ms (max {r['ready_max']:.1f})"
          + verdict)
    if r["all_p50"] is not None:
        print(f"  ready at ALL displays p50/p95  {r['all_p50']:.1f} / {r['all_p95']:.1f} ms")


def main() -> None:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--displays", type=int, default=8)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--cold-calls", type=int, default=14)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--gap", type=float, default=0.3,
                        help="seconds between the last display's WAV and the next call")
    args = parser.parse_args()
    raise_nofile(4096)
    with tempfile.TemporaryDirectory(prefix="antre-audio-bench-") as tmp, LiveServer(Path(tmp) / "data") as server:
        tokens = {role: server.token(role) for role in ("display", "counter", "kiosk")}
        services = {s["code"]: s["id"] for s in server.api("GET", "/api/v1/services", tokens["kiosk"]).json()}
        codes = list(SINGLE_COUNTER)
        plan = [(codes[i % len(codes)], SINGLE_COUNTER[codes[i % len(codes)]]) for i in range(args.calls)]
        audio_dir = server.data_dir / "audio"
        worker = speech_worker(server)
        wait_audio_idle(audio_dir, quiet_s=1.0)  # the warm-up's chime
        worker_cpu, made_before = (cpu_seconds(worker) if worker else 0.0), sentences(audio_dir)
        started = time.monotonic()
        for code, _counter in plan:
            server.api("POST", "/api/v1/tickets", tokens["kiosk"], json={"service_id": services[code]}) \
                .raise_for_status()
        prepared = wait_audio_idle(audio_dir)
        print(f"server {server.url}; {args.calls} tickets issued, {prepared} audio files ready after "
              f"{time.monotonic() - started:.1f} s ({psutil.cpu_count()} CPUs, load {psutil.getloadavg()[0]:.1f})")
        made = sentences(audio_dir) - made_before
        if worker is not None and made:
            print(f"  speech worker: {(cpu_seconds(worker) - worker_cpu) / made * 1000:.1f} ms of CPU per sentence "
                  f"prepared ahead ({made} sentences, nice {worker.nice()})")
        displays = Displays(server.url, tokens["display"], args.displays, args.procs, fetch_audio=True)
        time.sleep(1.0)
        show(f"Warm: audio prepared ahead ({displays.connected} displays)",
             run_calls(server, tokens, displays, plan, args.gap, False, services), 300.0)
        if args.cold_calls:
            displays = Displays(server.url, tokens["display"], args.displays, args.procs, fetch_audio=True)
            time.sleep(1.0)
            cold = [(codes[i % len(codes)], SINGLE_COUNTER[codes[i % len(codes)]]) for i in range(args.cold_calls)]
            show(f"Cold: called the moment it was issued ({displays.connected} displays)",
                 run_calls(server, tokens, displays, cold, args.gap, True, services), None)


if __name__ == "__main__":
    main()
