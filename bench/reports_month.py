"""Report queries over a month of a busy MPP (100,000 tickets): each must answer in under a second.

Writes a month of tickets with their events, audit rows (a valid hash chain)
and SKM responses by direct SQL, in the core's exact shape (checked first
against a scripted day played through the real core, row by row), then times
every report query on a cold connection and warm.

    .venv/bin/python -m bench.reports_month [--tickets 100000] [--days 22] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antre import reports  # noqa: E402
from antre.demo import seed_demo  # noqa: E402
from antre.store import Store  # noqa: E402
from bench.reports_data import TZ, validate_against_core, write_month  # noqa: E402

LIMIT_S = 1.0
COUNTERS = 60  # a busy MPP: the demo's 26 counters and 34 more that share their services


def add_counters(store: Store, total: int) -> None:
    """Grow the demo MPP to ``total`` counters (copies of the demo counters' service sets)."""
    with store.write() as db:
        existing = [r[0] for r in db.conn.execute("SELECT id FROM counters ORDER BY id")]
        for n in range(len(existing), total):
            source = existing[n % len(existing)]
            zone = "lantai-1" if n % 2 else "lantai-2"
            cid = db.conn.execute("INSERT INTO counters (name, zone, sort) VALUES (?, ?, ?)",
                                  (f"Loket {n + 1}", zone, n)).lastrowid
            db.conn.execute("INSERT INTO counter_services (counter_id, service_id) "
                            "SELECT ?, service_id FROM counter_services WHERE counter_id = ?", (cid, source))


def queries(first: date, last: date) -> list[tuple[str, Any]]:
    month = reports.Period(first, last)
    day = reports.Period(first + timedelta(days=3), first + timedelta(days=3))
    now = datetime(last.year, last.month, last.day, 10, 0, tzinfo=TZ)
    return [
        ("summary (API), month", lambda db: reports.summary(db, month)),
        ("summary (API), one day", lambda db: reports.summary(db, day)),
        ("full report page, month", lambda db: reports.report(db, month, TZ)),
        ("full report page, one day", lambda db: reports.report(db, day, TZ)),
        ("calls out of order, month", lambda db: reports.out_of_order_calls(db, month, TZ)),
        ("IKM (API), month", lambda db: reports.ikm(db, month)),
        ("IKM (API), month, one tenant", lambda db: reports.ikm(db, month, 1)),
        ("IKM page, month", lambda db: reports.ikm_report(db, month)),
        ("survey CSV rows, month", lambda db: reports.survey_rows(db, month, TZ)),
        ("counter tablet: pending survey", lambda db: reports.pending_survey(db, 1, now)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=22, help="working days in the month")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        compared = validate_against_core(Path(tmp) / "validate")
        print(f"shape: {compared} ticket/event/audit rows of a scripted day equal to the real core's")
        data_dir = args.data_dir or Path(tmp) / "month"
        store = Store(data_dir)
        seed_demo(store)
        add_counters(store, COUNTERS)
        first = date(2026, 11, 2)
        t0 = time.perf_counter()
        counts = write_month(store, first, args.days, args.tickets // args.days)
        print(f"written in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        check = store.verify_audit()
        print(f"audit chain: {check.rows:,} rows, ok={check.ok}")
        last = first + timedelta(days=args.days - 1)
        store.close()
        worst = 0.0
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(wall times grow with other work on the machine; CPU time is this process's own)")
        print(f"{'query':34} {'first s':>8} {'wall s':>8} {'CPU s':>8}")
        for name, fn in queries(first, last):
            walls, cpus = [], []
            for _ in range(args.repeat + 1):
                fresh = Store(data_dir)  # a new connection every round: nothing cached in Python
                with fresh.read() as db:
                    t1, c1 = time.perf_counter(), time.process_time()
                    fn(db)
                    walls.append(time.perf_counter() - t1)
                    cpus.append(time.process_time() - c1)
                fresh.close()
            first_run, wall, cpu = walls[0], statistics.median(walls[1:]), statistics.median(cpus[1:])
            worst = max(worst, wall)
            print(f"{name:34} {first_run:8.3f} {wall:8.3f} {cpu:8.3f}")
        print(f"slowest (median wall): {worst:.3f} s (limit {LIMIT_S:.1f} s) -> "
              f"{'OK' if worst < LIMIT_S else 'TOO SLOW'}")
        return 0 if worst < LIMIT_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
