"""Counter desks (who holds which counter) and log-in rate limiting: antre.staff on a real SQLite file."""

from __future__ import annotations

import json

import pytest

from antre import staff
from antre.auth import LOCK_AFTER, create_user
from antre.queue import Actor, Queue
from antre.rules import RuleError
from antre.store import Store

PASSWORD = "kata-sandi-uji-123"
DUKCAPIL, IMIGRASI = 1, 2  # demo tenants; counters 1-4 serve Dukcapil, 5-6 Imigrasi
T0 = 1_800_000_000.0


def person(store: Store, username: str, role: str = "counter", tenant_id: int | None = DUKCAPIL,
           display_name: str = "") -> Actor:
    user_id = create_user(store, username, PASSWORD, role, display_name=display_name or username.title(),
                          tenant_id=tenant_id)
    return Actor(username, role, user_id=user_id, tenant_id=tenant_id if role == "counter" else None)


@pytest.fixture
def sari(demo_store: Store) -> Actor:
    return person(demo_store, "sari", display_name="Sari Wulandari")


@pytest.fixture
def budi(demo_store: Store) -> Actor:
    return person(demo_store, "budi", display_name="Budi Santoso")


@pytest.fixture
def guarded(queue: Queue) -> Queue:
    staff.install(queue)
    return queue


def audit(store: Store, action: str) -> list[dict]:
    with store.read() as db:
        return [json.loads(r[0]) for r in db.conn.execute("SELECT details FROM audit WHERE action = ? ORDER BY id",
                                                          (action,))]


# ------------------------------------------------------------------ holding


def test_one_person_per_counter_and_the_refusal_names_the_holder(queue, sari, budi):
    hold = staff.take_counter(queue, 1, sari)
    assert hold["user"]["display_name"] == "Sari Wulandari" and hold["counter_name"] == "Loket 1"
    assert staff.take_counter(queue, 1, sari) == hold  # taking it again changes nothing
    with pytest.raises(RuleError) as refused:
        staff.take_counter(queue, 1, budi)
    assert refused.value.code == "counter_taken" and refused.value.status == 409
    assert "Sari Wulandari" in refused.value.message and "(Loket 1 is held by" in refused.value.message
    assert staff.hold_of(queue, 1)["user"]["username"] == "sari"
    with queue.store.read() as db:
        assert db.conn.execute("SELECT user_id FROM counters WHERE id = 1").fetchone()[0] == sari.user_id


def test_taking_another_counter_releases_the_first_unless_a_ticket_is_still_there(queue, sari):
    staff.take_counter(queue, 1, sari)
    staff.take_counter(queue, 2, sari)
    assert staff.hold_of(queue, 1) is None and staff.held_by(queue, sari.user_id)["counter_id"] == 2
    assert audit(queue.store, "counter.released")[-1]["reason"] == "switched"

    queue.issue(1)
    queue.call_next(2, sari)
    with pytest.raises(RuleError) as refused:
        staff.take_counter(queue, 3, sari)
    assert refused.value.code == "counter_still_busy" and "A001" in refused.value.message
    assert staff.held_by(queue, sari.user_id)["counter_id"] == 2


def test_release_own_counter_supervisor_releases_anyone_clerk_may_not(queue, sari, budi, demo_store):
    boss = person(demo_store, "ratna", "supervisor", tenant_id=None)
    staff.take_counter(queue, 1, sari)
    with pytest.raises(RuleError) as refused:
        staff.release_counter(queue, 1, budi)
    assert refused.value.code == "release_forbidden" and refused.value.status == 403
    released = staff.release_counter(queue, 1, boss)
    assert released["user"]["username"] == "sari"
    assert audit(demo_store, "counter.released")[-1] == {
        "counter_id": 1, "holder": "sari", "reason": "released", "forced": True}
    assert staff.release_counter(queue, 1, boss) is None  # already free: nothing to do
    staff.take_counter(queue, 1, budi)
    assert staff.release_counter(queue, 1, budi)["user"]["username"] == "budi"
    with queue.store.read() as db:
        assert db.conn.execute("SELECT user_id FROM counters WHERE id = 1").fetchone()[0] is None


def test_release_all_of_a_person_on_log_out(queue, sari):
    staff.take_counter(queue, 4, sari)
    assert [h["counter_id"] for h in staff.release_all_of(queue, sari)] == [4]
    assert staff.holds(queue) == []


def test_a_clerk_takes_only_counters_of_their_agency_devices_take_none(queue, sari):
    with pytest.raises(RuleError) as refused:
        staff.take_counter(queue, 5, sari)  # Imigrasi
    assert refused.value.code == "forbidden_counter" and refused.value.status == 403
    with pytest.raises(RuleError) as device:
        staff.take_counter(queue, 1, Actor("Loket 1 keypad", "counter"))
    assert device.value.code == "staff_only"
    with pytest.raises(RuleError) as unknown:
        staff.take_counter(queue, 999, sari)
    assert unknown.value.code == "counter_not_found"
    with pytest.raises(RuleError) as bad:
        staff.take_counter(queue, "1", sari)
    assert bad.value.code == "invalid_counter_id"


def test_a_hold_ends_with_the_working_day_or_the_account(queue, clock, sari, budi, demo_store):
    staff.take_counter(queue, 1, sari)
    clock.advance(staff.HOLD_HOURS * 3600 - 60)
    with pytest.raises(RuleError):
        staff.take_counter(queue, 1, budi)
    clock.advance(120)
    assert staff.hold_of(queue, 1) is None
    assert staff.take_counter(queue, 1, budi)["user"]["username"] == "budi"
    with demo_store.write() as db:
        db.conn.execute("UPDATE users SET active = 0 WHERE id = ?", (budi.user_id,))
    assert staff.hold_of(queue, 1) is None
    assert staff.take_counter(queue, 1, sari)["user"]["username"] == "sari"


# ------------------------------------------------------------------ the guard


def test_a_clerk_acts_only_on_the_counter_they_hold(guarded, sari, budi):
    guarded.issue(1)
    with pytest.raises(RuleError) as not_taken:
        guarded.call_next(1, sari)
    assert not_taken.value.code == "counter_not_taken" and "Loket 1" in not_taken.value.message
    staff.take_counter(guarded, 1, sari)
    with pytest.raises(RuleError) as taken:
        guarded.call_next(1, budi)
    assert taken.value.code == "counter_taken" and "Sari" in taken.value.message
    assert guarded.call_next(1, sari).ticket["number"] == "A001"
    with pytest.raises(RuleError):
        guarded.recall(1, budi)
    with pytest.raises(RuleError):
        guarded.set_counter_status(1, True, "Sholat", budi)
    assert guarded.waiting_list(1, budi) == []  # reading is not acting
    staff.install(guarded)
    assert len(guarded.counter_guards) == 1


def test_supervisors_and_device_tokens_are_not_bound_to_holds(guarded, sari, demo_store):
    boss = person(demo_store, "ratna", "supervisor", tenant_id=None)
    staff.take_counter(guarded, 1, sari)
    guarded.issue(1)
    guarded.issue(1)
    assert guarded.call_next(1, boss).ticket["number"] == "A001"
    assert guarded.call_next(2, Actor("keypad", "counter")).ticket["number"] == "A002"


# ------------------------------------------------------------------ screens


def test_desk_figures_of_today(guarded, clock, sari):
    staff.take_counter(guarded, 1, sari)
    for _ in range(3):
        guarded.issue(1)
    guarded.call_next(1, sari)
    clock.advance(300)
    guarded.call_next(1, sari)  # A001 served after 5 minutes
    clock.advance(100)
    guarded.finish(1, sari)  # A002 after 100 s
    guarded.call_next(1, sari)
    guarded.no_show(1, sari)
    desk = staff.desk(guarded, 1, sari)
    assert (desk["served"], desk["no_show"], desk["service_mean_s"]) == (2, 1, 200.0)
    assert desk["holder"]["username"] == "sari" and desk["status"] == "open" and desk["day"] == "2026-11-23"
    assert staff.desk(guarded, 2, sari)["served"] == 0
    with pytest.raises(RuleError) as other:
        staff.desk(guarded, 5, sari)
    assert other.value.code == "forbidden_counter"


def test_overview_shows_a_clerk_only_their_agency(queue, sari, demo_store):
    boss = person(demo_store, "ratna", "supervisor", tenant_id=None)
    staff.take_counter(queue, 2, sari)
    mine = staff.overview(queue, sari)
    assert [c["name"] for c in mine] == ["Loket 1", "Loket 2", "Loket 3", "Loket 4"]
    assert [c["mine"] for c in mine] == [False, True, False, False]
    everything = staff.overview(queue, boss)
    assert len(everything) == 26
    assert everything[1]["holder"]["display_name"] == "Sari Wulandari" and not everything[1]["mine"]


# -------------------------------------------------------------- log-in limits


def test_wrong_password_then_the_lock_out_says_so(demo_store, sari):
    for _ in range(LOCK_AFTER - 1):
        with pytest.raises(RuleError) as wrong:
            staff.log_in(demo_store, "sari", "salah", "10.0.0.5", now=T0)
        assert wrong.value.code == "login_failed"
    with pytest.raises(RuleError) as locked:
        staff.log_in(demo_store, "sari", "salah", "10.0.0.5", now=T0)
    assert locked.value.code == "account_locked" and "15 menit" in locked.value.message
    with pytest.raises(RuleError) as still:
        staff.log_in(demo_store, "SARI ", PASSWORD, "10.0.0.5", now=T0)  # even the right password
    assert still.value.code == "account_locked"


def test_per_address_limit_refuses_before_any_password_is_checked(demo_store, sari):
    for i in range(staff.MAX_FAILURES_PER_IP):
        staff.record_login_failure(demo_store, "10.0.0.9", f"guess{i}", now=T0 + i)
    with pytest.raises(staff.TooManyAttempts) as limited:
        staff.log_in(demo_store, "sari", PASSWORD, "10.0.0.9", now=T0 + 60)
    assert limited.value.status == 429 and limited.value.code == "too_many_attempts"
    # The oldest failure (at T0) leaves the window at T0 + WINDOW: then one more try is allowed.
    assert limited.value.details["retry_after"] == staff.LOGIN_WINDOW_SECONDS - 60
    assert "Coba lagi dalam 14 menit" in limited.value.message
    assert staff.log_in(demo_store, "sari", PASSWORD, "10.0.0.8", now=T0 + 60)["username"] == "sari"
    assert staff.log_in(demo_store, "sari", PASSWORD, "10.0.0.9",
                        now=T0 + staff.LOGIN_WINDOW_SECONDS + 1)["username"] == "sari"


def test_per_username_limit_spans_addresses_and_unknown_names(demo_store, sari):
    for i in range(staff.MAX_FAILURES_PER_USERNAME):
        staff.record_login_failure(demo_store, f"10.0.1.{i}", "nobody", now=T0)
    with pytest.raises(staff.TooManyAttempts):
        staff.log_in(demo_store, "Nobody", "x", "10.0.2.1", now=T0 + 1)
    assert staff.login_retry_after(demo_store, "10.0.2.1", "sari", now=T0 + 1) == 0


def test_failures_are_stored_survive_a_restart_and_a_success_clears_the_name(demo_store, sari):
    with pytest.raises(RuleError):
        staff.log_in(demo_store, "sari", "salah", "10.0.0.7", now=T0)
    for _ in range(staff.MAX_FAILURES_PER_IP - 1):
        staff.record_login_failure(demo_store, "10.0.0.7", "x", now=T0)
    reopened = Store(demo_store.data_dir)
    try:
        assert staff.login_retry_after(reopened, "10.0.0.7", "y", now=T0 + 10) > 0
        assert staff.log_in(reopened, "sari", PASSWORD, "10.0.0.6", now=T0 + 10)["id"] == sari.user_id
        with reopened.read() as db:
            assert db.conn.execute("SELECT COUNT(*) FROM login_failures WHERE username = 'sari'").fetchone()[0] == 0
    finally:
        reopened.close()


def test_odd_input_is_a_failed_log_in_never_a_crash(demo_store):
    for username, password in ((None, "x"), ("sari", None), ("x" * 500, "y"), ("sari", "y" * 5000), (3, [])):
        with pytest.raises(RuleError) as refused:
            staff.log_in(demo_store, username, password, None, now=T0)
        assert refused.value.code == "login_failed"
