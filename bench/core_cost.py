"""Where a ticket's time goes in the core: CPU per ticket, time per SQL statement, fsync.

    .venv/bin/python -m bench.core_cost [--tickets 3000] [--waiting 4000]

One writer issues tickets into the demo MPP (spread over its services, as
bench/core_issue.py does) on a database with ``synchronous=OFF``, so that what
is measured is the work of the process, not the disk: CPU per ticket, and the
wall time of each kind of statement (the commit writes the WAL pages but syncs
nothing); first one ticket per commit, then 8 per commit issued together, as
the group commit does when kiosks are busy.  Then the disk alone: how long an fdatasync of one batch's WAL
frames takes in the data dir's file system.  Together they say what a durable ticket
costs: the CPU here, plus its share of one fsync per group commit.
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antre.demo import seed_demo  # noqa: E402
from antre.queue import Actor, IssueRequest, Queue, new_track_token  # noqa: E402
from antre.store import Store  # noqa: E402


class _TimedConnection:
    """A sqlite3 connection that adds up the time of each statement kind."""

    def __init__(self, conn: Any, times: dict[str, float], counts: collections.Counter[str]) -> None:
        self._conn, self._times, self._counts = conn, times, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(self._conn.execute, sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed(self._conn.executemany, sql, *args)

    def _timed(self, run: Any, sql: str, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(sql, *args)
        finally:
            key = " ".join(sql.split())[:70]
            self._times[key] += time.perf_counter() - start
            self._counts[key] += 1


class _UnsyncedStore(Store):
    """The real Store, its connections without fsync and with timed statements."""

    times: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()

    def _open(self) -> Any:
        db = super()._open()
        db.conn.execute("PRAGMA synchronous = OFF")
        db.conn = _TimedConnection(db.conn, self.times, self.counts)
        return db


def _cpu_per_ticket(store: _UnsyncedStore, calls: int, call: Any,
                    per_call: int = 1) -> tuple[float, dict[str, tuple[float, int]]]:
    """CPU per ticket of ``calls`` calls of ``call(i)``, and each statement's time per ticket."""
    store.times.clear()
    store.counts.clear()
    cpu = time.process_time()
    for i in range(calls):
        call(i * per_call)
    cpu = time.process_time() - cpu
    tickets = calls * per_call
    return cpu / tickets * 1e6, {key: (seconds / tickets * 1e6, store.counts[key])
                                 for key, seconds in store.times.items()}


def wal_frames_per_commit(store: Store, queue: Queue, services: list[int], actor: Actor,
                          commits: int = 50, per_commit: int = 8) -> float:
    """WAL frames (pages) one commit of ``per_commit`` tickets, each of another
    service as a busy kiosk hall's are, writes: read from SQLite's own count of
    WAL frames after ``commits`` such commits, starting from an empty WAL."""
    checkpointer = store._checkpointer
    if checkpointer is not None:  # no checkpoint may restart the WAL while we count
        checkpointer.request_stop()
        checkpointer.wait_stopped(5)
    probe = sqlite3.connect(store.path)
    try:
        probe.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        n = 0
        for _ in range(commits):
            requests = [IssueRequest(services[(n + k) % len(services)], False, "id", actor, new_track_token())
                        for k in range(per_commit)]
            store.run_write(lambda db, requests=requests: queue._issue_many(db, requests))
            n += per_commit
        frames = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        probe.close()
    return frames / commits


def fsync_ms(directory: Path, pages: int = 32, rounds: int = 300, *, append: bool = False) -> tuple[float, float]:
    """(p50, p90) of fdatasync after writing ``pages`` WAL frames (a 24-byte
    header and a 4 KiB page each, as SQLite writes them), either over the same
    place again or appended (the file grows, as a WAL does until it restarts)."""
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)
    frame = 24 + 4096
    samples = []
    try:
        for n in range(rounds):
            offset = n * pages * frame if append else 0
            for i in range(pages):
                os.pwrite(fd, b"h" * 24, offset + i * frame)
                os.pwrite(fd, b"p" * 4096, offset + i * frame + 24)
            start = time.perf_counter()
            os.fdatasync(fd)
            samples.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    samples.sort()
    return samples[len(samples) // 2] * 1000, samples[len(samples) * 9 // 10] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--waiting", type=int, default=4000, help="tickets issued first (the queues' length)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(dir=str(here)) as tmp:
        store = _UnsyncedStore(Path(tmp))
        seed_demo(store)
        queue = Queue(store)
        services = [s["id"] for s in queue.services() if s["quota_left"] is None]
        actor = Actor("kiosk-1", "kiosk")
        for i in range(args.waiting):
            queue.issue(services[i % len(services)], actor=actor)
        waiting = (args.waiting + args.tickets) / len(services)
        print(f"core cost, 1 writer, no fsync, about {waiting:.0f} waiting per service ({len(services)} services)")
        alone = _cpu_per_ticket(store, args.tickets, lambda i: queue.issue(services[i % len(services)], actor=actor))

        def batch_of_8(i: int) -> None:
            requests = [IssueRequest(services[(i + k) % len(services)], False, "id", actor, new_track_token())
                        for k in range(8)]
            store.run_write(lambda db: queue._issue_many(db, requests))

        together = _cpu_per_ticket(store, args.tickets // 8, batch_of_8, per_call=8)
        for title, (cpu, times) in (("one ticket per commit (a quiet hall)", alone),
                                    ("8 tickets of 8 services issued together in one commit (a busy hall's "
                                     "group commit)", together)):
            print(f"{title}: {cpu:.0f} us CPU per ticket")
            for key, (seconds, count) in sorted(times.items(), key=lambda kv: -kv[1][0]):
                print(f"  {seconds:6.1f} us per ticket  {count:6d} x  {key}")
        frames = wal_frames_per_commit(store, queue, services, actor)
        store.close()
        print(f"one commit of 8 tickets (8 services) writes {frames:.1f} WAL frames")
        for append in (False, True):
            p50, p90 = fsync_ms(Path(tmp), pages=round(frames), append=append)
            where = "appended (the WAL grows)" if append else "written in place"
            print(f"fdatasync of {round(frames)} WAL frames (one such commit's), {where}: "
                  f"p50 {p50:.3f} ms, p90 {p90:.3f} ms")


if __name__ == "__main__":
    main()
