"""Display clients for the fan-out benchmarks: many python-socketio clients in one process.

Each worker process runs under gevent (one greenlet per client instead of
two OS threads), connects its clients with a display token, then records the
arrival time (``time.monotonic()``, one clock for every process of the
machine) of every ``ticket:called``.  Optionally each client fetches the
call's audio right away, as a display does, and records when the WAV is
complete.  The parent talks to a worker over a pipe:

    parent -> worker: ("stop",)
    worker -> parent: ("ready", connected, failed), then ("done", records)

and ``received`` (a shared integer written by this worker only) counts the
calls its clients have received so far, so that the parent can wait for a
call's fan-out to be complete before the next call.

where ``records`` is ``[(client, ticket_id, received, audio_done or None,
audio_bytes)]``.
"""

from __future__ import annotations

import time
from typing import Any


def run_worker(url: str, token: str, clients: int, fetch_audio: bool, conn: Any, received: Any) -> None:
    """Entry point of a worker process (multiprocessing, "spawn" context)."""
    from gevent import monkey

    monkey.patch_all()
    import os
    import resource

    # The displays stand for screens on other machines: on this one they must not take the
    # server's CPU while it is sending (the server keeps its normal priority).
    os.nice(10)

    import gevent
    import requests
    import socketio

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * clients + 256)), hard))
    records: list[tuple[int, int, float, float | None, int]] = []
    sessions: list[Any] = []
    socks: list[Any] = []

    def fetch(n: int, ticket_id: int, got: float, audio_url: str) -> None:
        r = sessions[n].get(audio_url, timeout=30)
        done = time.monotonic()
        records.append((n, ticket_id, got, done if r.status_code == 200 else None, len(r.content)))
        received.value += 1

    def make(n: int) -> Any:
        sio = socketio.Client(reconnection=False)

        def on_called(payload: dict[str, Any]) -> None:
            got = time.monotonic()
            ticket_id = payload["ticket"]["id"]
            if fetch_audio:
                gevent.spawn(fetch, n, ticket_id, got, payload["announcement"]["audio_url"])
            else:
                records.append((n, ticket_id, got, None, 0))
                received.value += 1

        sio.on("ticket:called", on_called)
        return sio

    failed = 0
    for n in range(clients):
        if fetch_audio:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            sessions.append(session)
        sio = make(n)
        for attempt in range(3):
            try:
                sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)
                socks.append(sio)
                break
            except Exception:  # noqa: BLE001 - retried, then counted
                gevent.sleep(0.2 * (attempt + 1))
        else:
            failed += 1
    conn.send(("ready", len(socks), failed))
    while not conn.poll(0):
        gevent.sleep(0.05)
    conn.recv()
    gevent.sleep(0.2)  # let in-flight audio fetches finish
    conn.send(("done", records))
    for sio in socks:
        try:
            sio.eio.disconnect(abort=True)
        except Exception:  # noqa: BLE001 - the parent is finished with us
            pass
