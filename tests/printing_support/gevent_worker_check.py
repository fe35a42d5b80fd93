"""Run PrintWorker in a gevent monkey-patched process and report as JSON.

Monkey-patching cannot be undone, so the test runs this in a subprocess.  A
ticker greenlet measures how long the event loop is ever blocked while a slow
virtual printer, a LAN printer and a silent LAN printer are at work.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gevent  # noqa: E402

from antre.blocking import gevent_active  # noqa: E402
from printing.fake_network_printer import FakeNetworkPrinter  # noqa: E402
from printing.ticket import render_ticket  # noqa: E402
from printing.virtual import get_virtual_printer  # noqa: E402
from printing.worker import PrintJob, PrintWorker  # noqa: E402
from tests.printing_support.tickets import make_ticket  # noqa: E402

SLOW_DELAY = 0.5  # seconds per ticket on the slow printer
TIMEOUT = 1.0  # the worker's timeout: the silent printer holds its lane this long


def main() -> None:
    # Everything CPU-heavy that is not the worker's happens before the clock starts.
    tickets = {f"{p}{i}": render_ticket(make_ticket(number=f"{p.upper()}{i:03d}"), 58) for p in "vn" for i in range(3)}
    silent_ticket = render_ticket(make_ticket(number="S000"), 58)
    slow = get_virtual_printer("gevent-slow")
    slow.set_delay(SLOW_DELAY)
    lan = FakeNetworkPrinter().start()
    silent = FakeNetworkPrinter().start()
    silent.inject("silent")

    gaps: list[float] = []

    def ticker() -> None:
        last = time.monotonic()
        while True:
            gevent.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = gevent.spawn(ticker)
    gevent.sleep(0.02)
    results: list[tuple[str, str, str]] = []
    worker = PrintWorker(lambda *r: results.append(r), timeout=TIMEOUT)
    submit_times = []
    start = time.monotonic()
    for i in range(3):
        for uri, prefix in (("virtual:gevent-slow", "v"), (lan.uri, "n")):
            t0 = time.perf_counter()
            worker.submit(PrintJob(f"{prefix}{i}", uri, tickets[f"{prefix}{i}"]))
            submit_times.append(time.perf_counter() - t0)
    worker.submit(PrintJob("s0", silent.uri, silent_ticket))
    idle = worker.wait_idle(15)
    took = time.monotonic() - start
    tick.kill()
    worker.stop()
    lan.stop()
    silent.stop()
    print(
        json.dumps(
            {
                "gevent": gevent_active(),
                "idle": idle,
                "took": took,
                "results": results,
                "max_gap": max(gaps),
                "ticks": len(gaps),
                "submit_times": submit_times,
                "slow_tickets": [t.decoded.text_lines[5] for t in slow.tickets],
                "lan_tickets": [t.decoded.text_lines[5] for t in lan.printer.tickets],
            }
        )
    )


if __name__ == "__main__":
    main()
