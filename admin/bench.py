"""How fast an admin change reaches a waiting-room display (a developer benchmark).

    ./.venv/bin/python -m admin.bench [--rounds 30]

Starts a real server (gevent) on a demo MPP in a temporary folder, connects a
display over Socket.IO with a display token, then, as a logged-in admin, saves
the running text through the ``/admin/running-text`` form ``rounds`` times and
measures from the form's POST to the display receiving ``config:changed`` and
the fresh ``queue:state`` that carries the new text.  The ~100 ms coalescing
window of ``config:changed`` is part of what is measured.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio

from antre import auth
from antre.store import Store
from tests.support.live import LiveServer, make_token


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp) / "data") as server:
        store = Store(server.data_dir)
        auth.create_user(store, "bench", "kata-sandi-panjang", "admin")
        store.close()
        http = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(server.url + "/admin/login").text).group(1)
        http.post(server.url + "/admin/login", data={"csrf_token": token, "username": "bench",
                                                     "password": "kata-sandi-panjang"})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get(server.url + "/admin/running-text").text)
        assert csrf, "log-in failed"
        seen: dict[str, threading.Event] = {}
        arrived: dict[str, float] = {}
        client = socketio.Client(reconnection=False)

        @client.on("config:changed")
        def _changed(data: dict) -> None:
            text = data.get("settings", {}).get("running_text", "")
            arrived.setdefault("changed:" + text, time.perf_counter())

        @client.on("queue:state")
        def _state(data: dict) -> None:
            text = data.get("running_text", "")
            arrived.setdefault("state:" + text, time.perf_counter())
            if text in seen:
                seen[text].set()

        client.connect(server.url, auth={"token": make_token(server.data_dir, "display")}, transports=["websocket"])
        to_changed, to_state = [], []
        for n in range(args.rounds):
            text = f"Pengumuman nomor {n}"
            seen[text] = threading.Event()
            start = time.perf_counter()
            r = http.post(server.url + "/admin/running-text", data={"csrf_token": csrf.group(1), "running_text": text},
                          allow_redirects=False)
            assert r.status_code == 303, r.text
            assert seen[text].wait(5), f"round {n}: no queue:state"
            to_changed.append((arrived["changed:" + text] - start) * 1000)
            to_state.append((arrived["state:" + text] - start) * 1000)
            time.sleep(0.15)
        client.disconnect()
    for name, values in (("save -> config:changed", to_changed), ("save -> queue:state", to_state)):
        print(f"{name:<24} p50 {statistics.median(values):6.1f} ms   p95 {percentile(values, 0.95):6.1f} ms   "
              f"max {max(values):6.1f} ms   ({len(values)} rounds)")


if __name__ == "__main__":
    main()
