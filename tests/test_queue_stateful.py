"""Random sequences of queue actions on several counters keep every invariant.

A hypothesis state machine drives the real core over a real SQLite file and,
after every step, checks: numbers are unique per service and day; calls are
first come, first served within a priority class; each ticket is in exactly
one state and a counter holds only what it called; the kept waiting counts
match the tickets and every waiting ticket's position is its place in the call
order; and replaying the event log gives back the same state as the tickets table.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from antre import rules as R
from antre.clock import FrozenClock
from antre.queue import Queue
from antre.rules import RuleError
from antre.store import Store
from tests.conftest import MONDAY_0800
from tests.support.mpp import seed_small

COUNTERS = ("Loket 1", "Loket 2", "Loket 3", "Loket 4")
SERVICES = ("A", "B", "P")


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        shm = "/dev/shm" if Path("/dev/shm").is_dir() else None  # fast: this tests rules, not fsync
        self.dir = Path(tempfile.mkdtemp(prefix="antre-stateful-", dir=shm))
        self.store = Store(self.dir)
        self.ids = seed_small(self.store)
        self.clock = FrozenClock(MONDAY_0800)
        self.q = Queue(self.store, self.clock)
        self.model: dict[int, str] = {}  # ticket id -> status we expect
        self.violations: list[str] = []

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _waiting_before(self) -> list[dict]:
        with self.store.read() as db:
            return [dict(r) for r in db.conn.execute("SELECT * FROM tickets WHERE status = 'waiting'")]

    def _apply(self, outcome) -> None:
        for event in outcome.events:
            self.model[event["ticket"]["id"]] = event["ticket"]["status"]

    @rule(service=st.sampled_from(SERVICES), priority=st.booleans(), wait=st.integers(0, 120))
    def issue(self, service: str, priority: bool, wait: int) -> None:
        self.clock.advance(wait)
        self._apply(self.q.issue(self.ids[service], priority=priority))

    @rule(counter=st.sampled_from(COUNTERS), wait=st.integers(0, 600))
    def call_next(self, counter: str, wait: int) -> None:
        self.clock.advance(wait)
        counter_id = self.ids[counter]
        before = self._waiting_before()
        try:
            outcome = self.q.call_next(counter_id)
        except RuleError as exc:
            assert exc.code == "counter_paused"
            return
        self._apply(outcome)
        if outcome.ticket is None:
            serves = set(self.q.counter(counter_id)["service_ids"])
            callable_here = [t for t in before if t["service_id"] in serves
                             and t["target_counter_id"] in (None, counter_id)]
            assert not callable_here, "call-next found nothing although tickets were waiting"
            return
        called = next(t for t in before if t["id"] == outcome.ticket["id"])
        # First come, first served within the called ticket's service and class.
        earlier = [
            t for t in before
            if t["service_id"] == called["service_id"] and t["priority"] == called["priority"]
            and t["target_counter_id"] in (None, counter_id)
            and (t["queue_at"], t["id"]) < (called["queue_at"], called["id"])
        ]
        assert not earlier, f"{called['number']} called before {[t['number'] for t in earlier]}"

    @rule(counter=st.sampled_from(COUNTERS),
          action=st.sampled_from(["recall", "start", "finish", "no_show"]), wait=st.integers(0, 300))
    def counter_action(self, counter: str, action: str, wait: int) -> None:
        self.clock.advance(wait)
        try:
            self._apply(getattr(self.q, action)(self.ids[counter]))
        except RuleError as exc:
            assert exc.code in ("no_current_ticket", "invalid_state")

    @rule(counter=st.sampled_from(COUNTERS), service=st.sampled_from(SERVICES))
    def transfer(self, counter: str, service: str) -> None:
        try:
            self._apply(self.q.transfer(self.ids[counter], service_id=self.ids[service]))
        except RuleError as exc:
            assert exc.code in ("no_current_ticket", "same_service")

    @precondition(lambda self: any(s in ("waiting", "called") for s in self.model.values()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        open_ids = sorted(i for i, s in self.model.items() if s in ("waiting", "called"))
        ticket_id = data.draw(st.sampled_from(open_ids))
        self._apply(self.q.cancel(ticket_id, reason="visitor left"))

    @rule(counter=st.sampled_from(COUNTERS), paused=st.booleans())
    def pause(self, counter: str, paused: bool) -> None:
        try:
            self.q.set_counter_status(self.ids[counter], paused, "istirahat")
        except RuleError as exc:
            assert exc.code == "counter_busy"

    # ------------------------------------------------------------ invariants

    @invariant()
    def numbers_are_unique(self) -> None:
        with self.store.read() as db:
            dupes = db.conn.execute(
                "SELECT number, COUNT(*) FROM tickets GROUP BY origin_service_id, day, number HAVING COUNT(*) > 1"
            ).fetchall()
        assert not dupes

    @invariant()
    def every_ticket_in_one_known_state(self) -> None:
        with self.store.read() as db:
            tickets = {r["id"]: dict(r) for r in db.conn.execute("SELECT * FROM tickets")}
            counters = [dict(r) for r in db.conn.execute("SELECT * FROM counters")]
        assert {i: t["status"] for i, t in tickets.items()} == self.model
        held = {c["current_ticket_id"]: c["id"] for c in counters if c["current_ticket_id"] is not None}
        assert len(held) == len([c for c in counters if c["current_ticket_id"] is not None])
        for ticket_id, t in tickets.items():
            assert t["status"] in R.STATUSES
            if t["status"] in R.ACTIVE:
                assert held.get(ticket_id) == t["counter_id"], f"{t['number']} active but not held"
            else:
                assert ticket_id not in held
        for c in counters:
            if c["status"] == "paused":
                assert c["current_ticket_id"] is None

    @invariant()
    def waiting_counts_match_the_tickets(self) -> None:
        """The triggers' counts (what positions are computed from) never drift."""
        with self.store.read() as db:
            kept = {(r[0], r[1], r[2]): r[3] for r in db.conn.execute(
                "SELECT day, service_id, priority, n FROM waiting_counts")}
            counted = {(r[0], r[1], r[2]): r[3] for r in db.conn.execute(
                "SELECT day, service_id, priority, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY 1, 2, 3")}
        assert kept == counted

    @invariant()
    def each_waiting_ticket_shows_its_place_in_the_call_order(self) -> None:
        """A ticket's own position (counts) is its index in the service's call order
        (the order call-next follows), also after transfers put it mid-queue."""
        service_ids = [self.ids[s] for s in SERVICES]
        for entry in self.q.waiting_positions(service_ids):
            ticket = self.q.ticket(entry["ticket_id"])
            assert (ticket["position"], ticket["eta_minutes"]) == (entry["position"], entry["eta_minutes"]), ticket

    @invariant()
    def event_log_replays_to_the_same_state(self) -> None:
        with self.store.read() as db:
            replay: dict[int, dict] = {}
            for r in db.conn.execute("SELECT id, type, payload FROM events ORDER BY id"):
                ticket = json.loads(r["payload"])
                previous = replay.get(ticket["id"])
                if previous is None:
                    assert r["type"] == "ticket.issued"
                replay[ticket["id"]] = ticket
            tickets = {r["id"]: dict(r) for r in db.conn.execute("SELECT * FROM tickets")}
            audits = db.conn.execute("SELECT COUNT(*) FROM audit WHERE action LIKE 'ticket.%'").fetchone()[0]
            events = db.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert set(replay) == set(tickets)
        for ticket_id, t in tickets.items():
            last = replay[ticket_id]
            assert (last["status"], last["service_id"], last["counter_id"], last["number"]) == (
                t["status"], t["service_id"], t["counter_id"], t["number"]
            )
        assert audits == events  # every event has its audit row


QueueMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestQueueMachine = QueueMachine.TestCase
