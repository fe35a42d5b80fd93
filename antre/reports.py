"""Reports over the stored tickets, audit rows and SKM responses (plain Python and SQL).

Definitions (the contract's, exact):

* A period is a range of LOCAL dates of the MPP's time zone, both ends
  included; a ticket belongs to the local date it was issued on
  (``tickets.day``), so a ticket taken at 23:30 WIB is in that day and one
  taken at 00:30 WIB in the next, whatever UTC says.
* A ticket counts under the service it was ISSUED for
  (``tickets.origin_service_id``), also after a transfer.
* Wait: from ``issued_at`` to its FIRST call (``first_called_at``), for every
  ticket that was called at all.
* Service time: from its LAST call (``called_at``; a recall is a call) to
  ``finished_at``, for served tickets only.
* p90 is the nearest-rank 90th percentile: the ⌈0,9·n⌉-th smallest value;
  the median is the usual one (the mean of the two middle values when n is
  even).  Times are in seconds, rounded to 0,1 s.  A mean, median or p90 with
  no value to average is ``None`` (null in JSON): "no data" is not "0 s".
* Served within the standard time: a served ticket whose service time is at
  most the ``standard_minutes`` of the service that served it
  (``tickets.service_id``, where the time was spent).
* Counters and staff: a ticket counts under the counter that ended it
  (``tickets.counter_id``) and the staff member who ended it
  (``tickets.served_by``, the actor label ``role:name`` the core wrote).
* Arrivals per hour: tickets issued in each LOCAL clock hour.
* Calls out of first-come order: audit rows ``ticket.called`` whose details
  say ``out_of_order: true`` (a specific number called ahead of its queue).
* SKM responses count under the ticket's origin tenant and service and the
  ticket's local day; see :mod:`antre.survey` for the index and its rounding.

Every function takes an open read connection (``store.read()``) and runs in
the caller's thread: callers on the event loop use ``antre.run``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from antre import survey
from antre.clock import iso
from antre.rules import Invalid, NotFound, RuleError

MAX_RANGE_DAYS = 366
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCORE_COLUMNS = ", ".join(f"SUM(u{i})" for i in range(1, survey.N_ELEMENTS + 1))


# ------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """Local dates ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def args(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


def parse_date(value: Any, name: str) -> date:
    if value is None or value == "":
        raise Invalid("missing_date", f"Parameter {name} wajib diisi (YYYY-MM-DD). ({name} is required: YYYY-MM-DD.)",
                      field=name)
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise Invalid("invalid_date", f"{name} harus tanggal YYYY-MM-DD. ({name} must be a date YYYY-MM-DD.)",
                      field=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("invalid_date", f"{name} bukan tanggal yang ada. ({name} is not a real date.)",
                      field=name) from None


def parse_period(start: Any, end: Any) -> Period:
    """``from``/``to`` of a request, or :class:`Invalid` with a clear code:
    ``missing_date``, ``invalid_date``, ``invalid_range`` (from after to) or
    ``range_too_long`` (more than :data:`MAX_RANGE_DAYS` days)."""
    first, last = parse_date(start, "from"), parse_date(end, "to")
    if first > last:
        raise Invalid("invalid_range",
                      "Tanggal 'from' harus sebelum atau sama dengan 'to'. (from must not be after to.)", field="to")
    period = Period(first, last)
    if period.days > MAX_RANGE_DAYS:
        raise Invalid("range_too_long", f"Rentang laporan paling panjang {MAX_RANGE_DAYS} hari. "
                                        f"(A report covers at most {MAX_RANGE_DAYS} days.)", field="to")
    return period


# --------------------------------------------------------------------- stats


def nearest_rank(sorted_values: list[float], percent: int) -> float | None:
    """The nearest-rank percentile: the ⌈percent/100·n⌉-th smallest value (integer arithmetic)."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, -(-percent * n // 100))
    return sorted_values[rank - 1]


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class Stats:
    n: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float], *, ordered: bool = False) -> Stats:
        """Figures of some values (``ordered``: they are already ascending)."""
        if not values:
            return cls(0, None, None, None)
        values = values if ordered else sorted(values)
        n = len(values)
        median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
        return cls(n, _r(sum(values) / n), _r(median), _r(nearest_rank(values, 90)))


@dataclass
class _Acc:
    """The figures of one row of a report table, filled by :func:`_collect`."""

    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    open: int = 0
    within: int = 0
    waits: list[float] = field(default_factory=list)  # ascending
    service_times: list[float] = field(default_factory=list)  # ascending

    def count(self, status: str, n: int, within: int) -> None:
        self.issued += n
        if status == "served":
            self.served += n
        elif status == "no_show":
            self.no_show += n
        elif status == "cancelled":
            self.cancelled += n
        else:
            self.open += n
        self.within += within

    def figures(self) -> dict[str, Any]:
        wait, service = Stats.of(self.waits, ordered=True), Stats.of(self.service_times, ordered=True)
        return {
            "issued": self.issued, "served": self.served, "no_show": self.no_show, "cancelled": self.cancelled,
            "open": self.open,
            "no_show_rate": round(self.no_show / self.issued, 4) if self.issued else None,
            "called": wait.n,
            "wait_mean_s": wait.mean, "wait_median_s": wait.median, "wait_p90_s": wait.p90,
            "service_mean_s": service.mean, "service_median_s": service.median, "service_p90_s": service.p90,
            "within_standard": self.within,
            "within_standard_rate": round(self.within / service.n, 4) if service.n else None,
        }


# ---------------------------------------------------------------- reference


def _services(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    return {r["id"]: dict(r) for r in db.conn.execute(
        "SELECT id, tenant_id, code, name_id, name_en, standard_minutes, active, sort FROM services")}


def _tenants(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    return {r["id"]: dict(r) for r in db.conn.execute(
        "SELECT id, code, name_id, name_en, active, sort FROM tenants")}


def _counters(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    return {r["id"]: dict(r) for r in db.conn.execute("SELECT id, name, zone, sort FROM counters")}


def _staff_names(db: sqlite_utils.Database) -> dict[str, str]:
    """``role:username`` → the person's display name (the label the core writes)."""
    return {f"{r['role']}:{r['username']}": (r["display_name"] or r["username"]) for r in db.conn.execute(
        "SELECT username, display_name, role FROM users")}


#: One pass over a period's tickets, read from the covering index ``tickets_report``
#: alone (no table row is visited): counts, and every wait and service time in
#: seconds to the millisecond, per combination of the keys the tables group by.
_COLLECT_SQL = (
    "SELECT day, origin_service_id, status, counter_id, served_by, service_id, COUNT(*), "
    "group_concat(ROUND((julianday(first_called_at) - julianday(issued_at)) * 86400.0, 3)), "
    "group_concat(CASE WHEN status = 'served' THEN "
    "ROUND((julianday(finished_at) - julianday(called_at)) * 86400.0, 3) END) "
    "FROM tickets WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4, 5, 6"
)
DIMENSIONS = ("total", "service", "tenant", "day", "counter", "staff")
HANDLED = ("served", "no_show")


def _values(text: str | None) -> list[float]:
    return [float(v) for v in text.split(",")] if text else []


def _collect(db: sqlite_utils.Database, period: Period, dims: tuple[str, ...],
             services: dict[int, dict[str, Any]]) -> dict[str, dict[Any, _Acc]]:
    """The period's tickets grouped by each dimension asked for.

    Dimensions: ``total`` (key None), ``service`` (origin service), ``tenant``
    (origin tenant), ``day``, ``counter`` and ``staff`` (served and no-show
    tickets, by the counter and the actor that ended them).  SQLite does the
    per-ticket arithmetic; Python only merges a few thousand combinations and
    sorts each group's values once.
    """
    out: dict[str, dict[Any, _Acc]] = {d: defaultdict(_Acc) for d in dims}
    for day, origin, status, counter, by, served_in, n, waits, times in db.conn.execute(
            _COLLECT_SQL, period.args()):
        wait_values, service_values = _values(waits), _values(times)
        within = 0
        if service_values:
            standard = services.get(served_in, {}).get("standard_minutes")
            if standard is not None:
                within = sum(1 for v in service_values if v <= standard * 60)
        for dim in dims:
            if dim == "total":
                key: Any = None
            elif dim == "service":
                key = origin
            elif dim == "tenant":
                key = services.get(origin, {}).get("tenant_id", 0)
            elif dim == "day":
                key = day
            elif status not in HANDLED:
                continue
            elif dim == "counter" and counter is not None:
                key = counter
            elif dim == "staff" and by:
                key = by
            else:
                continue
            acc = out[dim][key]
            acc.count(status, n, within)
            acc.waits += wait_values
            acc.service_times += service_values
    for groups in out.values():
        for acc in groups.values():
            acc.waits.sort()
            acc.service_times.sort()
    return out


def _hours(db: sqlite_utils.Database, period: Period, tz: ZoneInfo) -> list[int]:
    """Tickets issued in each local clock hour (grouped by UTC hour in SQL; whole-hour zones)."""
    hours = [0] * 24
    for prefix, n in db.conn.execute(
        "SELECT substr(issued_at, 1, 13), COUNT(*) FROM tickets WHERE day BETWEEN ? AND ? GROUP BY 1",
        period.args(),
    ):
        hours[_local_hour(prefix, tz)] += n
    return hours


# ------------------------------------------------------------------- summary


def summary(db: sqlite_utils.Database, period: Period) -> dict[str, Any]:
    """``GET /api/v1/reports/summary``: one row per service (every service that exists,
    zeros and nulls where nothing happened), in the services' display order."""
    services = _services(db)
    rows = _collect(db, period, ("service",), services)["service"]
    out = []
    for sid, s in sorted(services.items(), key=lambda kv: (kv[1]["sort"], kv[0])):
        if not s["active"] and sid not in rows:
            continue
        acc = rows.get(sid, _Acc())
        figures = acc.figures()
        out.append({
            "service_id": sid, "code": s["code"], "issued": acc.issued, "served": acc.served,
            "no_show": acc.no_show, "wait_mean_s": figures["wait_mean_s"], "wait_p90_s": figures["wait_p90_s"],
            "service_mean_s": figures["service_mean_s"],
            # additions to the contract's fields
            "name": s["name_id"], "tenant_id": s["tenant_id"], "cancelled": acc.cancelled,
            "wait_median_s": figures["wait_median_s"], "service_median_s": figures["service_median_s"],
            "service_p90_s": figures["service_p90_s"], "within_standard_rate": figures["within_standard_rate"],
        })
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "services": out}


# -------------------------------------------------------------- full report


def _local_hour(utc_prefix: str, tz: ZoneInfo) -> int:
    """The local hour of a UTC ``YYYY-MM-DDTHH`` (whole-hour zones: all of Indonesia's)."""
    return datetime.fromisoformat(utc_prefix + ":00:00+00:00").astimezone(tz).hour


def report(db: sqlite_utils.Database, period: Period, tz: ZoneInfo) -> dict[str, Any]:
    """Everything the report pages show for a period: totals; tables by tenant,
    service, counter and staff member; days; arrivals per hour; calls out of order."""
    services, tenants, counters = _services(db), _tenants(db), _counters(db)
    staff = _staff_names(db)
    groups = _collect(db, period, DIMENSIONS, services)
    total = groups["total"].get(None, _Acc())
    by_service, by_tenant, by_day = groups["service"], groups["tenant"], groups["day"]
    by_counter, by_staff = groups["counter"], groups["staff"]
    hours = _hours(db, period, tz)

    def service_row(sid: int, acc: _Acc) -> dict[str, Any]:
        s = services.get(sid, {})
        t = tenants.get(s.get("tenant_id", 0), {})
        return {"service_id": sid, "code": s.get("code", "?"), "name": s.get("name_id", "?"),
                "name_en": s.get("name_en", "?"), "tenant": t.get("name_id", "?"),
                "standard_minutes": s.get("standard_minutes"), **acc.figures()}

    def sort_service(sid: int) -> tuple[int, int, int]:
        s = services.get(sid, {})
        t = tenants.get(s.get("tenant_id", 0), {})
        return (t.get("sort", 0), s.get("sort", 0), sid)

    service_rows = [service_row(sid, by_service[sid]) for sid in sorted(by_service, key=sort_service)]
    tenant_rows = [
        {"tenant_id": tid, "code": tenants.get(tid, {}).get("code", "?"), "name": tenants.get(tid, {}).get(
            "name_id", "?"), "name_en": tenants.get(tid, {}).get("name_en", "?"), **by_tenant[tid].figures()}
        for tid in sorted(by_tenant, key=lambda tid: (tenants.get(tid, {}).get("sort", 0), tid))
    ]
    counter_rows = [
        {"counter_id": cid, "name": counters.get(cid, {}).get("name", f"#{cid}"),
         "zone": counters.get(cid, {}).get("zone", ""), **by_counter[cid].figures()}
        for cid in sorted(by_counter, key=lambda cid: (counters.get(cid, {}).get("sort", 0), cid))
    ]
    staff_rows = [
        {"actor": label, "name": staff.get(label, label.partition(":")[2] or label),
         "role": label.partition(":")[0], **by_staff[label].figures()}
        for label in sorted(by_staff, key=lambda label: staff.get(label, label).lower())
    ]
    day_rows = [{"day": d.isoformat(), **by_day[d.isoformat()].figures()} for d in period.dates()]
    return {
        "from": period.start.isoformat(), "to": period.end.isoformat(), "days": period.days,
        "totals": total.figures(),
        "tenants": tenant_rows, "services": service_rows, "counters": counter_rows, "staff": staff_rows,
        "by_day": day_rows,
        "hours": [{"hour": h, "issued": n, "per_day": round(n / period.days, 2)} for h, n in enumerate(hours)],
        "out_of_order": out_of_order_calls(db, period, tz),
    }


def out_of_order_calls(db: sqlite_utils.Database, period: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Specific numbers called ahead of the head of their queue, from the audit log."""
    services, counters = _services(db), _counters(db)
    rows = db.conn.execute(
        "SELECT a.id, a.at, a.actor, a.device, a.details, a.ticket_id, t.number, t.day, t.origin_service_id "
        "FROM audit a INDEXED BY audit_out_of_order JOIN tickets t ON t.id = a.ticket_id "
        "WHERE a.action = 'ticket.called' AND json_extract(a.details, '$.out_of_order') = 1 "
        "AND t.day BETWEEN ? AND ? ORDER BY a.id",
        period.args(),
    ).fetchall()
    out = []
    for r in rows:
        details = json.loads(r["details"])
        at_local = datetime.fromisoformat(r["at"]).astimezone(tz)
        # The call's event was written with the same moment, to the second: it names the counter.
        event = db.conn.execute(
            "SELECT counter_id FROM events WHERE ticket_id = ? AND type = 'ticket.called' AND occurred_at = ? "
            "ORDER BY id LIMIT 1", (r["ticket_id"], iso(at_local)),
        ).fetchone()
        counter_id = event[0] if event else None
        service = services.get(details.get("service_id") or r["origin_service_id"], {})
        out.append({
            "audit_id": r["id"], "at": iso(at_local), "day": r["day"], "number": r["number"],
            "ticket_id": r["ticket_id"], "service": service.get("name_id", "?"), "service_code": service.get("code"),
            "counter_id": counter_id, "counter": counters.get(counter_id, {}).get("name") if counter_id else None,
            "actor": r["actor"], "device": r["device"], "reason": details.get("reason", ""),
        })
    return out


# ----------------------------------------------------------------------- SKM


def ikm(db: sqlite_utils.Database, period: Period, tenant_id: int | None = None) -> survey.Ikm:
    """``GET /api/v1/reports/ikm``: the index of the period (optionally one tenant)."""
    sql = f"SELECT COUNT(*), {SCORE_COLUMNS} FROM surveys WHERE day BETWEEN ? AND ?"  # noqa: S608 - constants
    args: tuple[Any, ...] = period.args()
    if tenant_id is not None:
        sql += " AND tenant_id = ?"
        args += (tenant_id,)
    row = db.conn.execute(sql, args).fetchone()
    return survey.ikm_from_sums(row[0], [row[i] or 0 for i in range(1, survey.N_ELEMENTS + 1)])


#: the groupings of the SKM tables (SQL expressions over ``surveys``)
IKM_KEYS = {"tenant": "tenant_id", "service": "service_id", "month": "substr(day, 1, 7)"}


def _ikm_rows(db: sqlite_utils.Database, period: Period, key: str) -> Iterable[tuple[Any, survey.Ikm]]:
    expr = IKM_KEYS[key]
    for row in db.conn.execute(
        f"SELECT {expr}, COUNT(*), {SCORE_COLUMNS} FROM surveys "  # noqa: S608 - constants only
        "WHERE day BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
        period.args(),
    ):
        yield row[0], survey.ikm_from_sums(row[1], [row[i] for i in range(2, survey.N_ELEMENTS + 2)])


def _ikm_figures(index: survey.Ikm) -> dict[str, Any]:
    return {"responses": index.responses, "element_means": list(index.element_means or [None] * survey.N_ELEMENTS),
            "ikm": index.ikm, "grade": index.grade}


def ikm_report(db: sqlite_utils.Database, period: Period) -> dict[str, Any]:
    """The SKM page: the index of the whole MPP, and per tenant, service and month."""
    services, tenants = _services(db), _tenants(db)
    by_tenant = [
        {"tenant_id": tid, "name": tenants.get(tid, {}).get("name_id", "?"), **_ikm_figures(index)}
        for tid, index in _ikm_rows(db, period, "tenant")
    ]
    by_tenant.sort(key=lambda r: (tenants.get(r["tenant_id"], {}).get("sort", 0), r["tenant_id"]))
    by_service = []
    for sid, index in _ikm_rows(db, period, "service"):
        s = services.get(sid, {})
        by_service.append({"service_id": sid, "code": s.get("code", "?"), "name": s.get("name_id", "?"),
                           "tenant": tenants.get(s.get("tenant_id", 0), {}).get("name_id", "?"),
                           "_sort": (tenants.get(s.get("tenant_id", 0), {}).get("sort", 0), s.get("sort", 0), sid),
                           **_ikm_figures(index)})
    by_service.sort(key=lambda r: r.pop("_sort"))
    by_month = [{"month": month, **_ikm_figures(index)} for month, index in _ikm_rows(db, period, "month")]
    channels = dict(db.conn.execute(
        "SELECT channel, COUNT(*) FROM surveys WHERE day BETWEEN ? AND ? GROUP BY channel", period.args()
    ).fetchall())
    return {
        "from": period.start.isoformat(), "to": period.end.isoformat(),
        "overall": _ikm_figures(ikm(db, period)), "tenants": by_tenant, "services": by_service, "months": by_month,
        "channels": {c: channels.get(c, 0) for c in survey.CHANNELS},
    }


def survey_rows(db: sqlite_utils.Database, period: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Every response of the period (the survey CSV), oldest first."""
    services, tenants, counters = _services(db), _tenants(db), _counters(db)
    out = []
    for r in db.conn.execute(
        "SELECT s.*, t.number FROM surveys s JOIN tickets t ON t.id = s.ticket_id "
        "WHERE s.day BETWEEN ? AND ? ORDER BY s.id", period.args(),
    ):
        service = services.get(r["service_id"], {})
        out.append({
            "id": r["id"], "day": r["day"], "at": iso(datetime.fromisoformat(r["created_at"]).astimezone(tz)),
            "number": r["number"], "tenant": tenants.get(r["tenant_id"], {}).get("name_id", "?"),
            "service_code": service.get("code", "?"), "service": service.get("name_id", "?"),
            "counter": counters.get(r["counter_id"], {}).get("name", "") if r["counter_id"] else "",
            "channel": r["channel"], "scores": [r[f"u{i}"] for i in range(1, survey.N_ELEMENTS + 1)],
            "comment": r["comment"],
        })
    return out


# ------------------------------------------------------------ survey writes


def submit_survey(db: sqlite_utils.Database, ticket_id: int, scores: list[int], comment: str, channel: str, *,
                  actor: str, device: str | None, now: datetime) -> dict[str, Any]:
    """Store one response for a served ticket (inside the caller's write transaction).

    Refused with 404 ``ticket_not_found``, 409 ``not_served`` (the ticket is
    not served, or not yet), 409 ``survey_exists`` (one response per ticket).
    The audit log records that a response came in and from where, never the
    scores: the answers stay anonymous.
    """
    if channel not in survey.CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    ticket = db.conn.execute(
        "SELECT t.id, t.status, t.day, t.number, t.origin_service_id, t.counter_id, s.tenant_id "
        "FROM tickets t JOIN services s ON s.id = t.origin_service_id WHERE t.id = ?", (ticket_id,),
    ).fetchone()
    if ticket is None:
        raise NotFound("ticket_not_found", f"Tiket {ticket_id} tidak ditemukan. (Ticket not found.)")
    if ticket["status"] != "served":
        raise RuleError("not_served", "Survei hanya untuk nomor yang sudah selesai dilayani. "
                                             "(A survey is only for a ticket that was served.)")
    if db.conn.execute("SELECT 1 FROM surveys WHERE ticket_id = ?", (ticket_id,)).fetchone():
        raise RuleError("survey_exists", "Survei untuk nomor ini sudah diisi. Terima kasih! "
                                                "(The survey of this ticket was already answered.)")
    created = now.astimezone(UTC).isoformat()
    cur = db.conn.execute(
        "INSERT INTO surveys (ticket_id, tenant_id, service_id, counter_id, day, u1, u2, u3, u4, u5, u6, u7, u8, u9, "
        "comment, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ticket_id, ticket["tenant_id"], ticket["origin_service_id"], ticket["counter_id"], ticket["day"], *scores,
         comment, channel, created),
    )
    from antre.store import Store

    Store.append_audit(db, actor=actor, action="survey.submitted", device=device, ticket_id=ticket_id,
                       details={"number": ticket["number"], "channel": channel}, at=created)
    return {"id": int(cur.lastrowid or 0), "ticket_id": ticket_id, "number": ticket["number"],
            "service_id": ticket["origin_service_id"], "tenant_id": ticket["tenant_id"],
            "counter_id": ticket["counter_id"], "channel": channel, "created_at": iso(now)}


def pending_survey(db: sqlite_utils.Database, counter_id: int, now: datetime, window_minutes: int = 15,
                   ) -> dict[str, Any] | None:
    """The ticket a counter's survey tablet should offer: the last one served at that
    counter, within the last ``window_minutes``, with no response yet; else None.

    ``now`` is local (its date is the MPP's day)."""
    since = (now - timedelta(minutes=window_minutes)).astimezone(UTC).isoformat()
    row = db.conn.execute(
        "SELECT t.id, t.number, t.finished_at, t.origin_service_id FROM tickets t "
        "WHERE t.day IN (?, ?) AND t.counter_id = ? AND t.status = 'served' AND t.finished_at >= ? "
        "ORDER BY t.finished_at DESC, t.id DESC LIMIT 1",
        (now.date().isoformat(), (now - timedelta(days=1)).date().isoformat(), counter_id, since),
    ).fetchone()
    if row is None or db.conn.execute("SELECT 1 FROM surveys WHERE ticket_id = ?", (row["id"],)).fetchone():
        return None
    service = db.conn.execute("SELECT code, name_id, name_en FROM services WHERE id = ?",
                              (row["origin_service_id"],)).fetchone()
    return {"ticket_id": row["id"], "number": row["number"],
            "service": {"name": service["name_id"], "name_en": service["name_en"]} if service else None}
