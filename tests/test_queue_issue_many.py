"""Tickets issued together (one group commit) are exactly tickets issued one by one.

``Queue._issue_many`` serves a batch's kiosks with one statement per table
and one figures read per service.  Hypothesis draws a queue already in use
(walk-ins, bookings queued at a later slot, tickets called and served) and a
group of requests, valid and refused; the group is issued at once in one copy
of the database and one request at a time in another, and everything must be
the same: each answer (position and estimate included) or refusal, and every
row of the tickets, events, audit log and waiting counts.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antre.clock import FrozenClock
from antre.queue import Actor, IssueRequest, Queue
from antre.rules import RuleError
from antre.store import Store
from tests.conftest import MONDAY_0800
from tests.support.mpp import seed_small

KIOSK = Actor("kiosk-1", "kiosk", device="kiosk-1")
CLERK = Actor("sari", "counter", device="pc-loket-1")
SERVICES = ("A", "B", "P", "Q", "Z", "X")  # Q: walk-in quota of 3; Z: closed today; X: not active
COUNTERS = ("Loket 1", "Loket 2", "Loket 3", "Loket 4")
TABLES = ("tickets", "events", "audit", "waiting_counts", "rule_state")


def _seed(store: Store) -> dict[str, int]:
    ids = seed_small(store)
    with store.write() as db:
        tenant = db.conn.execute("SELECT MIN(id) FROM tenants").fetchone()[0]
        for code, hours, quota, active in (("Q", None, 3, 1), ("Z", {"sun": [["08:00", "12:00"]]}, None, 1),
                                           ("X", None, None, 0)):
            ids[code] = db.conn.execute(
                "INSERT INTO services (tenant_id, code, name_id, name_en, hours, quota_walkin, standard_minutes, "
                "priority_rule, active) SELECT ?, ?, ?, ?, COALESCE(?, hours), ?, 7, 'interleave 1', ? "
                "FROM services WHERE code = 'A'",
                (tenant, code, f"Layanan {code}", f"Service {code}", json.dumps(hours) if hours else None,
                 quota, active),
            ).lastrowid
            db.conn.execute("INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                            (ids["Loket 2"], ids[code]))
    return ids


# What happened before the group: ("issue", service, priority, slot minutes or None) or ("call", counter).
history = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(("A", "B", "Q")), st.booleans(),
              st.one_of(st.none(), st.integers(-20, 40))),
    st.tuples(st.just("call"), st.sampled_from(COUNTERS)),
), max_size=14)

# One request of the group: a service (or a bad id), priority, and a booking's slot in minutes from now.
requests = st.lists(st.tuples(
    st.one_of(st.sampled_from(("A", "A", "B", "Q", "Q", "P", "Z", "X")), st.sampled_from((987654, True, "A"))),
    st.booleans(),
    st.one_of(st.none(), st.integers(-30, 30)),
), min_size=1, max_size=12)


def _request(ids: dict[str, int], n: int, service, priority: bool, slot, now) -> IssueRequest:
    service_id = ids[service] if service in ids and service in SERVICES else service
    queue_at = None if slot is None else (now + timedelta(minutes=slot)).astimezone(MONDAY_0800.tzinfo).isoformat()
    return IssueRequest(service_id, priority, "id", KIOSK, f"{n:011x}token{n:04d}", "lansia" if priority else None,
                        "walkin" if slot is None else "booking", None, queue_at)


def _answer(out) -> object:
    if isinstance(out, RuleError):
        return ("refused", type(out).__name__, out.code, str(out))
    return ("issued", out.ticket, out.events, out.services)


def _rows(store: Store) -> dict[str, list[tuple]]:
    with store.read() as db:
        return {t: sorted(tuple(r) for r in db.conn.execute(f"SELECT * FROM {t}")) for t in TABLES}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=history, group=requests)
def test_a_group_issues_exactly_what_one_by_one_issues(before, group):
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="antre-issue-many-", dir=shm))
    try:
        clock = FrozenClock(MONDAY_0800)
        origin = Store(root / "origin")
        ids = _seed(origin)
        q = Queue(origin, clock)
        for n, step in enumerate(before):
            clock.advance(90)
            if step[0] == "call":
                q.call_next(ids[step[1]], CLERK)
                continue
            _, service, priority, slot = step
            req = _request(ids, 5000 + n, service, priority, slot, clock.now())
            origin.run_write(lambda db, req=req: q._issue_many(db, [req]))
        origin.close()
        clock.advance(30)
        group_store, single_store = Store(shutil.copytree(root / "origin", root / "g")), None
        shutil.copytree(root / "origin", root / "s")
        single_store = Store(root / "s")
        reqs = [_request(ids, n, *r, clock.now()) for n, r in enumerate(group)]

        together = Queue(group_store, clock)
        answers = group_store.run_write(lambda db: together._issue_many(db, reqs))
        alone = Queue(single_store, clock)
        one_by_one = [single_store.run_write(lambda db, r=r: alone._issue_many(db, [r]))[0] for r in reqs]

        assert [_answer(a) for a in answers] == [_answer(a) for a in one_by_one]
        assert _rows(group_store) == _rows(single_store)
        assert group_store.verify_audit().ok
        group_store.close()
        single_store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_walk_in_issued_with_an_earlier_booking_counts_it_only_if_its_slot_is_later(store, clock):
    """The case the group's arithmetic is for: a booking checked in first whose
    slot is later than now stands behind a walk-in issued after it."""
    ids = seed_small(store)
    q = Queue(store, clock)
    later = (clock.now() + timedelta(minutes=20)).isoformat()
    reqs = [IssueRequest(ids["A"], False, "id", KIOSK, "t-booking", source="booking", queue_at=later),
            IssueRequest(ids["A"], False, "id", KIOSK, "t-walkin"),
            IssueRequest(ids["A"], False, "id", KIOSK, "t-walkin-2")]
    booking, walkin, walkin2 = store.run_write(lambda db: q._issue_many(db, reqs))
    assert booking.ticket["position"] == 0  # alone when it was checked in
    assert walkin.ticket["position"] == 0  # ahead of the booking's later slot
    assert walkin2.ticket["position"] == 1
    assert [t["position"] for t in map(q.ticket, (booking.ticket["id"], walkin.ticket["id"],
                                                  walkin2.ticket["id"]))] == [2, 0, 1]


def test_the_walk_in_quota_counts_the_tickets_of_the_same_group(store, clock):
    ids = _seed(store)
    q = Queue(store, clock)
    reqs = [IssueRequest(ids["Q"], False, "id", KIOSK, f"t{n}") for n in range(5)]
    reqs.insert(2, IssueRequest(ids["Q"], False, "id", KIOSK, "t-booking", source="booking",
                                queue_at=clock.now().isoformat()))  # bookings are not walk-ins: outside the quota
    answers = store.run_write(lambda db: q._issue_many(db, reqs))
    assert [a.code if isinstance(a, RuleError) else a.ticket["number"] for a in answers] == [
        "Q001", "Q002", "Q003", "Q004", "quota_reached", "quota_reached"]
