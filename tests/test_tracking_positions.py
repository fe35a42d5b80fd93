"""The positions pushed to tracking pages agree with each ticket's own figures."""

from __future__ import annotations

from antre.clock import FrozenClock
from antre.queue import Queue


def test_waiting_positions_match_every_tickets_own_position_and_estimate(queue: Queue, clock: FrozenClock) -> None:
    # service 1 (KTP-el) interleaves one priority ticket after three normal ones; service 3 is strict
    for n in range(12):
        queue.issue(1, priority=n % 4 == 1)
        queue.issue(3, priority=n % 5 == 0)
        clock.advance(30)
    for _ in range(4):  # some service times, so the estimate uses real samples
        queue.call_next(1)
        clock.advance(200)
        queue.finish(1)
    queue.call_next(3)
    entries = queue.waiting_positions([1, 3, 3, 999])  # duplicates and unknown services are harmless
    assert {e["service_id"] for e in entries} == {1, 3}
    assert len(entries) == 8 + 11
    for entry in entries:
        ticket = queue.ticket(entry["ticket_id"])
        assert ticket["status"] == "waiting"
        assert (entry["position"], entry["eta_minutes"]) == (ticket["position"], ticket["eta_minutes"]), ticket
    for service_id in (1, 3):
        positions = [e["position"] for e in entries if e["service_id"] == service_id]
        assert positions == list(range(len(positions)))
    assert queue.waiting_positions([]) == []
