"""The queue core over a real SQLite file: issue, call, recall, transfer, bookings."""

from __future__ import annotations

import json
import sqlite3

import pytest

from antre.clock import FrozenClock
from antre.queue import Actor, Queue
from antre.rules import RuleError
from antre.store import Store
from tests.conftest import MONDAY_0800
from tests.support.mpp import seed_small

CLERK = Actor("sari", "counter", device="pc-loket-1")


@pytest.fixture
def small(store: Store, clock: FrozenClock) -> tuple[Queue, dict[str, int]]:
    ids = seed_small(store)
    return Queue(store, clock, "http://antre.test"), ids


def test_numbers_restart_each_local_day_and_stay_unique(small, clock):
    q, ids = small
    assert [q.issue(ids["A"]).ticket["number"] for _ in range(3)] == ["A001", "A002", "A003"]
    # 23:59 WIB is 16:59 UTC; one minute later it is the next day in Jakarta though still the same UTC day.
    clock.set(MONDAY_0800.replace(hour=23, minute=59))
    assert q.issue(ids["A"]).ticket["number"] == "A004"
    clock.advance(60)
    assert q.issue(ids["A"]).ticket["number"] == "A001"
    with q.store.read() as db:
        days = [r[0] for r in db.conn.execute("SELECT DISTINCT day FROM tickets ORDER BY day")]
    assert days == ["2026-11-23", "2026-11-24"]


def test_the_database_refuses_a_duplicate_number(small):
    q, ids = small
    q.issue(ids["A"])
    with pytest.raises(sqlite3.IntegrityError), q.store.write() as db:
        db.conn.execute(
            "INSERT INTO tickets (day, origin_service_id, seq, number, service_id, status, issued_at, queue_at, "
            "track_token) SELECT day, origin_service_id, seq, number, service_id, 'waiting', issued_at, queue_at, "
            "'other' FROM tickets LIMIT 1"
        )


def test_ticket_shape_position_and_eta(small):
    q, ids = small
    first = q.issue(ids["A"]).ticket
    second = q.issue(ids["A"]).ticket
    assert set(first) == {"id", "number", "service_id", "priority", "status", "issued_at", "called_at",
                          "counter_id", "position", "eta_minutes", "track_url"}
    assert first["issued_at"].endswith("+07:00")
    assert first["position"] == 0 and second["position"] == 1
    # Two open counters serve A, standard time 10 minutes: one person ahead → 5 minutes.
    assert second["eta_minutes"] == 5
    assert first["track_url"].startswith("http://antre.test/t/") and len(first["track_url"]) > 40


def test_call_next_serves_the_held_ticket_first_then_calls_the_next(small, clock):
    q, ids = small
    a1 = q.issue(ids["A"]).ticket
    a2 = q.issue(ids["A"]).ticket
    out = q.call_next(ids["Loket 1"], CLERK)
    assert out.ticket["id"] == a1["id"] and out.ticket["status"] == "called"
    assert [e["type"] for e in out.events] == ["ticket.called"]
    clock.advance(300)
    out = q.call_next(ids["Loket 1"], CLERK)
    assert [e["type"] for e in out.events] == ["ticket.served", "ticket.called"]
    assert out.ticket["id"] == a2["id"]
    assert q.ticket(a1["id"])["status"] == "served"
    out = q.call_next(ids["Loket 1"], CLERK)
    assert out.ticket is None and [e["type"] for e in out.events] == ["ticket.served"]


def test_strict_priority_and_cross_service_order(small, clock):
    q, ids = small
    b_normal = q.issue(ids["B"]).ticket
    clock.advance(1)
    a_normal = q.issue(ids["A"]).ticket
    clock.advance(1)
    a_prio = q.issue(ids["A"], priority=True).ticket
    # Loket 2 serves A (strict) and B: the priority head of A goes first, then the oldest.
    assert q.call_next(ids["Loket 2"]).ticket["id"] == a_prio["id"]
    assert q.call_next(ids["Loket 2"]).ticket["id"] == b_normal["id"]
    assert q.call_next(ids["Loket 2"]).ticket["id"] == a_normal["id"]


def test_interleave_rule_calls_one_priority_after_two_normal(small, clock):
    q, ids = small
    for _ in range(4):
        q.issue(ids["B"])
        clock.advance(1)
    prio = q.issue(ids["B"], priority=True).ticket
    assert prio["position"] == 2
    called = [q.call_next(ids["Loket 3"]).ticket["number"] for _ in range(5)]
    assert called == ["B001", "B002", "B005", "B003", "B004"]


def test_recall_start_finish_and_no_show(small, clock):
    q, ids = small
    t = q.issue(ids["A"]).ticket
    q.call_next(ids["Loket 1"])
    clock.advance(30)
    recalled = q.recall(ids["Loket 1"])
    assert recalled.events[0]["type"] == "ticket.recalled"
    assert recalled.ticket["called_at"] != t["called_at"]
    assert q.start(ids["Loket 1"]).ticket["status"] == "serving"
    with pytest.raises(RuleError) as info:
        q.no_show(ids["Loket 1"])
    assert info.value.code == "invalid_state"
    assert q.finish(ids["Loket 1"]).ticket["status"] == "served"
    with pytest.raises(RuleError) as info:
        q.finish(ids["Loket 1"])
    assert info.value.code == "no_current_ticket"
    q.issue(ids["A"])
    q.call_next(ids["Loket 1"])
    assert q.no_show(ids["Loket 1"]).ticket["status"] == "no_show"


def test_transfer_keeps_the_number_and_the_place_in_time(small, clock):
    q, ids = small
    first = q.issue(ids["A"]).ticket
    clock.advance(60)
    later_b = q.issue(ids["B"]).ticket
    q.call_next(ids["Loket 1"])
    with pytest.raises(RuleError) as info:
        q.transfer(ids["Loket 1"], service_id=ids["A"])
    assert info.value.code == "same_service"
    moved = q.transfer(ids["Loket 1"], service_id=ids["B"]).ticket
    assert moved["number"] == first["number"] and moved["service_id"] == ids["B"]
    assert moved["status"] == "waiting" and moved["position"] == 0
    assert q.call_next(ids["Loket 3"]).ticket["id"] == first["id"]
    assert q.call_next(ids["Loket 3"]).ticket["id"] == later_b["id"]


def test_transfer_to_a_counter_waits_only_for_that_counter(small):
    q, ids = small
    t = q.issue(ids["B"]).ticket
    q.call_next(ids["Loket 3"])
    q.transfer(ids["Loket 3"], to_counter_id=ids["Loket 2"])
    assert q.call_next(ids["Loket 3"]).ticket is None
    assert q.call_next(ids["Loket 2"]).ticket["id"] == t["id"]
    with pytest.raises(RuleError) as info:
        q.transfer(ids["Loket 2"], to_counter_id=ids["Loket 1"])  # Loket 1 does not serve B
    assert info.value.code == "counter_does_not_serve"


def test_call_specific_is_audited_and_flagged_out_of_order(small):
    q, ids = small
    q.issue(ids["A"])
    second = q.issue(ids["A"]).ticket
    with pytest.raises(RuleError):
        q.call_specific(ids["Loket 1"], "A002", "", CLERK)
    out = q.call_specific(ids["Loket 1"], "a002", "Dokumen sudah diperiksa", CLERK)
    assert out.ticket["id"] == second["id"]
    with q.store.read() as db:
        row = db.conn.execute("SELECT * FROM audit WHERE action = 'ticket.called' ORDER BY id DESC LIMIT 1").fetchone()
    details = json.loads(row["details"])
    assert details["out_of_order"] is True and details["reason"] == "Dokumen sudah diperiksa"
    assert row["actor"] == "counter:sari" and row["device"] == "pc-loket-1"
    with pytest.raises(RuleError) as info:
        q.call_specific(ids["Loket 1"], "P001", "salah loket", CLERK)
    assert info.value.code == "ticket_not_waiting"


def test_closed_service_and_quota(store, clock):
    ids = seed_small(store, quota_walkin=2, hours={"mon": [["08:00", "12:00"]], "tue": [["08:00", "12:00"]]})
    q = Queue(store, clock)
    q.issue(ids["A"])
    q.issue(ids["A"])
    with pytest.raises(RuleError) as info:
        q.issue(ids["A"])
    assert info.value.code == "quota_reached"
    clock.set(MONDAY_0800.replace(hour=13))
    with pytest.raises(RuleError) as info:
        q.issue(ids["B"])
    assert info.value.code == "service_closed"
    assert info.value.details["opens_at"] == "2026-11-24T08:00:00+07:00"
    service = next(s for s in q.services() if s["id"] == ids["A"])
    assert service["open"] is False and service["quota_left"] == 0
    assert service["opens_at"] == "2026-11-24T08:00:00+07:00"


def test_paused_counter_does_not_call(small):
    q, ids = small
    q.issue(ids["A"])
    with pytest.raises(RuleError):
        q.set_counter_status(ids["Loket 1"], True, "")
    q.set_counter_status(ids["Loket 1"], True, "Istirahat sholat")
    with pytest.raises(RuleError) as info:
        q.call_next(ids["Loket 1"])
    assert info.value.code == "counter_paused"
    q.set_counter_status(ids["Loket 1"], False)
    assert q.call_next(ids["Loket 1"]).ticket is not None


def test_previous_days_are_closed_with_events(small, clock):
    q, ids = small
    being_served = q.issue(ids["A"]).ticket
    waiting = q.issue(ids["A"]).ticket
    q.call_next(ids["Loket 1"])
    q.start(ids["Loket 1"])
    clock.advance(24 * 3600)
    out = q.close_previous_days()
    types = sorted(e["type"] for e in out.events)
    assert types == ["ticket.cancelled", "ticket.served"]
    assert q.ticket(being_served["id"])["status"] == "served"
    assert q.ticket(waiting["id"])["status"] == "cancelled"
    assert q.counter(ids["Loket 1"])["current_ticket"] is None
    assert q.close_previous_days().events == []


def test_bookings_check_in_keeps_the_slot(small, clock):
    q, ids = small
    q.create_booking("ABC123", ids["A"], "2026-11-23T08:30:00+07:00", "Budi")
    with pytest.raises(RuleError) as info:
        q.create_booking("abc123", ids["A"], "2026-11-23T09:00:00+07:00")
    assert info.value.code == "booking_exists"
    clock.set(MONDAY_0800.replace(minute=20))
    walk_in = q.issue(ids["A"]).ticket
    ticket = q.check_in("abc123").ticket
    # Checked in at 08:20 for an 08:30 slot: its queue time is the slot, after the walk-in.
    assert ticket["position"] == 1 and walk_in["position"] == 0
    with pytest.raises(RuleError) as info:
        q.check_in("ABC123")
    assert info.value.code == "booking_used"
    with pytest.raises(RuleError) as info:
        q.check_in("NOPE99")
    assert info.value.code == "booking_not_found"
    q.create_booking("LATE01", ids["A"], "2026-11-23T06:00:00+07:00")
    with pytest.raises(RuleError) as info:
        q.check_in("LATE01")
    assert info.value.code == "booking_expired"


def test_audit_chain_detects_a_changed_row(small, tmp_path):
    q, ids = small
    for _ in range(5):
        q.issue(ids["A"])
    assert q.store.verify_audit().ok
    with pytest.raises(sqlite3.DatabaseError), q.store.write() as db:
        db.conn.execute("UPDATE audit SET actor = 'someone' WHERE id = 2")
    # Someone with the file drops the guard and edits a row: the chain shows it.
    conn = sqlite3.connect(q.store.path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone' WHERE id = 3")
    conn.commit()
    conn.close()
    check = q.store.verify_audit()
    assert not check.ok and check.first_bad_id == 3


def test_group_commit_isolates_a_failing_writer(small):
    q, ids = small
    store = q.store
    from antre.blocking import native_lock
    from antre.store import _WriteItem

    def good(db):
        return q._issue(db, ids["A"], priority=False, lang="id", actor=CLERK)

    def bad(db):
        q._issue(db, ids["A"], priority=False, lang="id", actor=CLERK)
        raise RuleError("nope", "refused after writing")

    items = [_WriteItem(good, native_lock()), _WriteItem(bad, native_lock()), _WriteItem(good, native_lock())]
    for item in items:
        item.done.acquire()
    store._run_batch(items)
    assert items[0].error is None and items[2].error is None
    assert isinstance(items[1].error, RuleError)
    with store.read() as db:
        numbers = [r[0] for r in db.conn.execute("SELECT number FROM tickets ORDER BY id")]
        events = db.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert numbers == ["A001", "A002"] and events == 2


def test_waiting_counts_are_filled_in_for_tickets_issued_before_the_migration(small, clock):
    """An MPP upgraded mid-day: migration 0800 counts the queues it finds."""
    q, ids = small
    for n in range(5):
        q.issue(ids["A"], priority=n == 2)
    q.issue(ids["B"])
    q.call_next(ids["Loket 1"])
    conn = sqlite3.connect(q.store.path)  # back to the schema before 0800
    for trigger in ("waiting_counts_join_on_insert", "waiting_counts_join_on_update",
                    "waiting_counts_leave_on_update", "waiting_counts_leave_on_delete"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE waiting_counts")
    conn.execute("DELETE FROM schema_migrations WHERE name = '0800_waiting_counts.sql'")
    conn.commit()
    conn.close()
    assert q.store.migrate() == ["0800_waiting_counts.sql"]
    with q.store.read() as db:
        kept = sorted(tuple(r) for r in db.conn.execute("SELECT service_id, priority, n FROM waiting_counts"))
        counted = sorted(tuple(r) for r in db.conn.execute(
            "SELECT service_id, priority, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY 1, 2"))
    assert kept == counted and sum(n for _, _, n in kept) == 5
    issued = q.issue(ids["A"]).ticket
    assert issued is not None and issued["position"] == 4  # the four still waiting (the priority one was called)
