"""The queue rules on their own (antre.rules): pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antre import rules
from antre.rules import PriorityRule, RuleError


@dataclass
class T:
    id: int
    priority: bool
    queue_at: str


def test_transitions_follow_the_state_machine():
    assert rules.next_status("call", "waiting") == "called"
    assert rules.next_status("start", "called") == "serving"
    assert rules.next_status("finish", "serving") == "served"
    assert rules.next_status("finish", "called") == "served"
    assert rules.next_status("no_show", "called") == "no_show"
    assert rules.next_status("recall", "serving") == "serving"
    assert rules.next_status("transfer", "serving") == "waiting"
    assert rules.next_status("cancel", "waiting") == "cancelled"
    for action, status in [("call", "called"), ("start", "waiting"), ("finish", "waiting"),
                           ("no_show", "serving"), ("cancel", "served"), ("recall", "waiting")]:
        with pytest.raises(RuleError) as info:
            rules.next_status(action, status)
        assert info.value.code == "invalid_state"


def test_every_final_state_is_final():
    for status in rules.FINAL:
        for action in rules.TRANSITIONS:
            if action == "transfer":
                continue
            with pytest.raises(RuleError):
                rules.next_status(action, status)


@pytest.mark.parametrize(("prefix", "seq", "number"), [("A", 1, "A001"), ("A", 12, "A012"), ("KIA", 999, "KIA999"),
                                                        ("B", 1000, "B1000")])
def test_numbers_are_prefix_and_zero_padded(prefix, seq, number):
    assert rules.format_number(prefix, seq) == number


def test_prefixes_are_one_to_three_capitals():
    assert rules.valid_prefix("A") and rules.valid_prefix("KIA")
    assert not any(rules.valid_prefix(p) for p in ("", "a", "ABCD", "A1", "Ä"))


def test_priority_rule_parsing():
    assert PriorityRule.parse("strict") == PriorityRule("strict")
    assert PriorityRule.parse("interleave 3") == PriorityRule("interleave", 3)
    assert PriorityRule.parse("interleave:2") == PriorityRule("interleave", 2)
    assert str(PriorityRule.parse("interleave 4")) == "interleave 4"
    for bad in ("interleave 0", "sometimes", "interleave -1", "interleave x"):
        with pytest.raises(RuleError):
            PriorityRule.parse(bad)


def _tickets(pattern: str) -> list[T]:
    """'NNPN' → tickets in arrival order, P = priority."""
    return [T(i + 1, c == "P", f"2026-11-23T01:00:{i:02d}+00:00") for i, c in enumerate(pattern)]


def _order_string(order: list[T]) -> str:
    return "".join(("P" if t.priority else "N") + str(t.id) for t in order)


def test_strict_priority_goes_first_in_arrival_order():
    order = rules.service_order(_tickets("NNPNP"), PriorityRule("strict"), 0)
    assert _order_string(order) == "P3P5N1N2N4"


def test_interleave_calls_one_priority_after_every_n_normal():
    order = rules.service_order(_tickets("NNNNNNPPP"), PriorityRule("interleave", 2), 0)
    assert _order_string(order) == "N1N2P7N3N4P8N5N6P9"
    # A streak already reached sends the priority ticket first.
    order = rules.service_order(_tickets("NNP"), PriorityRule("interleave", 2), 2)
    assert _order_string(order) == "P3N1N2"


def test_cross_service_pick_prefers_priority_then_oldest():
    a, b = T(1, False, "2026-11-23T01:00:00"), T(2, False, "2026-11-23T00:59:00")
    assert rules.pick_across_services([a, b]) is b
    c = T(3, True, "2026-11-23T01:30:00")
    assert rules.pick_across_services([a, b, c]) is c
    assert rules.pick_across_services([]) is None


@given(
    pattern=st.lists(st.booleans(), max_size=40),
    rule=st.one_of(st.just(PriorityRule("strict")), st.integers(1, 5).map(lambda n: PriorityRule("interleave", n))),
    streak=st.integers(0, 7),
)
def test_position_formula_agrees_with_the_simulated_order(pattern, rule, streak):
    tickets = [T(i + 1, p, f"2026-11-23T01:{i // 60:02d}:{i % 60:02d}") for i, p in enumerate(pattern)]
    order = rules.service_order(tickets, rule, streak)
    normals = [t for t in tickets if not t.priority]
    prios = [t for t in tickets if t.priority]
    for t in tickets:
        position = rules.position(
            rule, streak, t.priority,
            sum(1 for n in normals if rules.queue_key(n) < rules.queue_key(t)),
            sum(1 for p in prios if rules.queue_key(p) < rules.queue_key(t)),
            len(normals) - (0 if t.priority else 1),
            len(prios) - (1 if t.priority else 0),
        )
        assert position == order.index(t), (pattern, rule, streak, t)


HOURS = {"mon": [["08:00", "12:00"], ["13:00", "15:00"]], "fri": [["08:00", "11:00"]]}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_opening_hours_and_next_opening():
    assert rules.is_open(HOURS, _at("2026-11-23T08:00:00+07:00"))  # Monday
    assert not rules.is_open(HOURS, _at("2026-11-23T12:30:00+07:00"))
    assert rules.next_opening(HOURS, _at("2026-11-23T12:30:00+07:00")) == _at("2026-11-23T13:00:00+07:00")
    # Monday evening → Friday 08:00
    assert rules.next_opening(HOURS, _at("2026-11-23T16:00:00+07:00")) == _at("2026-11-27T08:00:00+07:00")
    assert rules.next_opening({}, _at("2026-11-23T16:00:00+07:00")) is None
    assert rules.is_open(rules.ALWAYS_OPEN, _at("2026-11-22T23:59:00+07:00"))


@pytest.mark.parametrize("bad", [
    [], {"xyz": []}, {"mon": [["08:00"]]}, {"mon": [["15:00", "08:00"]]}, {"mon": [["8:00", "15:00"]]},
    {"mon": [["08:00", "25:00"]]}, {"mon": "08:00-15:00"},
])
def test_invalid_hours_are_refused(bad):
    with pytest.raises(RuleError):
        rules.validate_hours(bad)


def test_eta_uses_real_times_once_there_are_enough():
    assert rules.mean_service_seconds([], 10) == 600
    assert rules.mean_service_seconds([300], 10) == pytest.approx((300 + 1200) / 3)
    assert rules.mean_service_seconds([300, 300, 300, 300], 10) == 300
    assert rules.eta_minutes(0, 600, 1) == 0
    assert rules.eta_minutes(3, 600, 1) == 30
    assert rules.eta_minutes(3, 600, 2) == 15
    assert rules.eta_minutes(3, 600, 0) == 30  # no open counter: still an honest figure
