"""The queue rules, as pure functions over plain values.

Nothing here touches a database or a clock: :mod:`antre.queue` reads the rows,
asks these functions what the rules say, and writes the outcome.  That keeps
every rule testable on its own and in one place.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

# --- ticket states ---------------------------------------------------------

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
SERVED = "served"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
STATUSES = (WAITING, CALLED, SERVING, SERVED, NO_SHOW, CANCELLED)
ACTIVE = (CALLED, SERVING)  # held by a counter
FINAL = (SERVED, NO_SHOW, CANCELLED)

#: action -> (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "call": ((WAITING,), CALLED),
    "recall": ((CALLED, SERVING), None),
    "start": ((CALLED,), SERVING),
    "finish": ((CALLED, SERVING), SERVED),
    "no_show": ((CALLED,), NO_SHOW),
    "transfer": ((CALLED, SERVING, WAITING), WAITING),
    "cancel": ((WAITING, CALLED), CANCELLED),
}

#: the event type each action writes (one event per state change)
EVENT_TYPES: dict[str, str] = {
    "issue": "ticket.issued",
    "call": "ticket.called",
    "recall": "ticket.recalled",
    "start": "ticket.started",
    "finish": "ticket.served",
    "no_show": "ticket.no_show",
    "transfer": "ticket.transferred",
    "cancel": "ticket.cancelled",
}


class RuleError(Exception):
    """A request the queue rules refuse.  ``code`` is the API's error code."""

    status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(RuleError):
    status = 404


class Invalid(RuleError):
    status = 400


class Forbidden(RuleError):
    status = 403


def next_status(action: str, status: str) -> str:
    """The state ``action`` leads to from ``status``, or :class:`RuleError`."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise RuleError(
            "invalid_state",
            f"Tiket berstatus '{status}' tidak dapat di-{action}. "
            f"(A '{status}' ticket cannot be {action.replace('_', '-')}ed.)",
            status=status,
        )
    return status if target is None else target


# --- numbering ---------------------------------------------------------------

PREFIX_RE = re.compile(r"^[A-Z]{1,3}$")


def format_number(prefix: str, seq: int, width: int = 3) -> str:
    """``A`` and 12 → ``A012``; numbers past 999 simply grow (``A1000``)."""
    return f"{prefix}{seq:0{width}d}"


def valid_prefix(prefix: str) -> bool:
    return bool(PREFIX_RE.match(prefix))


# --- priority ordering -------------------------------------------------------


@dataclass(frozen=True)
class PriorityRule:
    """``strict``: priority tickets always first.  ``interleave N``: one
    priority ticket after every N normal ones (when both wait)."""

    kind: str
    every: int = 0

    @classmethod
    @functools.lru_cache(maxsize=256)  # each service's rule text is parsed once: rules are immutable values
    def parse(cls, text: str) -> PriorityRule:
        text = (text or "strict").strip().lower()
        if text == "strict":
            return cls("strict")
        match = re.fullmatch(r"interleave[ :]?(\d{1,3})", text)
        if match and int(match.group(1)) >= 1:
            return cls("interleave", int(match.group(1)))
        raise Invalid(
            "invalid_priority_rule",
            "Aturan prioritas harus 'strict' atau 'interleave N' (N ≥ 1). "
            "(Priority rule must be 'strict' or 'interleave N'.)",
        )

    def __str__(self) -> str:
        return "strict" if self.kind == "strict" else f"interleave {self.every}"

    def picks_priority(self, normal_streak: int, priority_waiting: bool, normal_waiting: bool) -> bool:
        """Whether the next call of a service goes to its oldest priority ticket."""
        if not priority_waiting:
            return False
        if not normal_waiting or self.kind == "strict":
            return True
        return normal_streak >= self.every

    def next_streak(self, normal_streak: int, called_priority: bool) -> int:
        """The count of normal calls since the last priority call, after a call."""
        return 0 if called_priority else normal_streak + 1


class Queued(Protocol):
    id: int
    priority: bool
    queue_at: str


def queue_key(ticket: Queued) -> tuple[str, int]:
    """First come, first served: the queue time, then the id (issue order)."""
    return (ticket.queue_at, ticket.id)


def service_order(waiting: Iterable[Queued], rule: PriorityRule, normal_streak: int) -> list[Queued]:
    """The order in which a service's waiting tickets will be called.

    Simulates the rule call by call, so a ticket's position is exactly what
    "call next" will do if nothing else changes.
    """
    normal = sorted((t for t in waiting if not t.priority), key=queue_key)
    prio = sorted((t for t in waiting if t.priority), key=queue_key)
    order: list[Queued] = []
    i = j = 0
    streak = normal_streak
    while i < len(normal) or j < len(prio):
        take_prio = rule.picks_priority(streak, j < len(prio), i < len(normal))
        if take_prio:
            order.append(prio[j])
            j += 1
        else:
            order.append(normal[i])
            i += 1
        streak = rule.next_streak(streak, take_prio)
    return order


def position(rule: PriorityRule, normal_streak: int, is_priority: bool, normals_ahead: int, prios_ahead: int,
             normals_total: int, prios_total: int) -> int:
    """People ahead of a waiting ticket, from counts alone.

    The closed form of :func:`service_order` (a property test checks they agree),
    so that a ticket's position costs one aggregate query however long the
    queue is.  ``*_ahead`` count the waiting tickets of the same class with an
    earlier queue key; ``*_total`` count all waiting tickets of each class.
    """
    if rule.kind == "strict":
        return prios_ahead if is_priority else prios_total + normals_ahead
    every = rule.every
    first = max(0, every - normal_streak)  # normal calls before the first priority one
    if is_priority:
        return prios_ahead + min(normals_total, first + prios_ahead * every)
    prios_before = 0 if normals_ahead < first else 1 + (normals_ahead - first) // every
    return normals_ahead + min(prios_total, prios_before)


def pick_across_services(heads: Sequence[Queued]) -> Queued | None:
    """A counter serving several services takes, among each service's head,
    a priority head first, then the one waiting longest."""
    if not heads:
        return None
    return min(heads, key=lambda t: (not t.priority, *queue_key(t)))


# --- opening hours -----------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN: dict[str, list[list[str]]] = {d: [["00:00", "24:00"]] for d in WEEKDAYS}
HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate_hours(hours: Any) -> dict[str, list[list[str]]]:
    """Check an opening-hours mapping: weekday → list of [open, close] ``HH:MM``."""
    if not isinstance(hours, dict):
        raise Invalid("invalid_hours", "Jam buka harus berupa objek per hari. (Hours must be an object.)")
    clean: dict[str, list[list[str]]] = {}
    for day, spans in hours.items():
        if day not in WEEKDAYS or not isinstance(spans, list):
            raise Invalid("invalid_hours", f"Hari tidak dikenal: {day!r}. (Unknown weekday.)")
        clean_spans = []
        for span in spans:
            if (
                not isinstance(span, list | tuple)
                or len(span) != 2
                or not all(isinstance(x, str) and HOURS_RE.match(x) for x in span)
                or _minutes(span[0]) >= _minutes(span[1])
            ):
                raise Invalid(
                    "invalid_hours",
                    f"Jam buka {day} tidak sah: {span!r}; gunakan [\"08:00\", \"15:00\"]. "
                    "(Invalid opening span.)",
                )
            clean_spans.append([span[0], span[1]])
        clean[day] = sorted(clean_spans)
    return clean


def is_open(hours: dict[str, list[list[str]]], now: datetime) -> bool:
    minute = now.hour * 60 + now.minute
    for start, end in hours.get(WEEKDAYS[now.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


def next_opening(hours: dict[str, list[list[str]]], now: datetime) -> datetime | None:
    """When the service next opens (within a week), or None if never."""
    minute = now.hour * 60 + now.minute
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(8):
        day = day0 + timedelta(days=offset)
        for start, _end in hours.get(WEEKDAYS[day.weekday()], []):
            start_min = _minutes(start)
            if offset == 0 and start_min <= minute:
                continue
            opening = day.replace(tzinfo=None)
            opening = datetime.combine(opening.date(), time(start_min // 60, start_min % 60))
            return opening.replace(tzinfo=now.tzinfo)
    return None


# --- estimated waits ---------------------------------------------------------


def mean_service_seconds(recent: Sequence[float], standard_minutes: int, minimum_samples: int = 3) -> float:
    """Recent real service times when there are enough, else the standard time.

    A blend keeps the first few samples of the morning from swinging the
    estimate: each real sample weighs as much as the standard time does.
    """
    standard = standard_minutes * 60.0
    usable = [s for s in recent if s > 0]
    if len(usable) < minimum_samples:
        return (sum(usable) + standard * (minimum_samples - len(usable))) / minimum_samples
    return sum(usable) / len(usable)


def eta_minutes(ahead: int, mean_seconds: float, open_counters: int) -> int:
    """Minutes until a ticket with ``ahead`` people before it is called."""
    if ahead <= 0:
        return 0
    servers = max(1, open_counters)
    return math.ceil(ahead * mean_seconds / servers / 60.0)
