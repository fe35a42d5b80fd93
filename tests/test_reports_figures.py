"""Report figures of a fixture day made through the real core, checked against figures
worked out BY HAND below (never by calling the report code), plus the API's refusals
and the CSV files parsed back with the csv module."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from antre.auth import create_user
from antre.queue import Actor, Queue
from antre.reports import Period, Stats, nearest_rank
from tests.conftest import bearer

WIB = "+07:00"
DAY = "2026-11-23"  # the fixture clock's Monday
NEXT = "2026-11-24"
SARI = Actor("sari", "counter", device="ip:10.0.0.21")
BUDI = Actor("budi", "counter", device="ip:10.0.0.22")
ANI = Actor("ani", "counter", device="ip:10.0.0.23")
KIOSK = Actor("Kiosk lobi", "kiosk", device="Kiosk lobi")
# Demo MPP: service 1 = A (KTP-el, 8 min standard), 2 = B (Kartu Keluarga, 10), 3 = C (Akta Kelahiran, 10),
# all of tenant 1 (Disdukcapil); Loket 1 serves A+KIA, Loket 2 A+B, Loket 3 B+C+D.
A, B, C = 1, 2, 3
LOKET1, LOKET2, LOKET3 = 1, 2, 3


def at(clock: Any, hhmm: str, day: str = DAY) -> None:
    clock.set(datetime.fromisoformat(f"{day}T{hhmm}:00{WIB}"))


@pytest.fixture
def fixture_day(app: Any, clock: Any) -> dict[str, int]:
    """The day, step by step (WIB).  Comments give what each step means for the figures."""
    q = Queue(app.extensions["antre"].store, clock, "http://antre.test")
    ids: dict[str, int] = {}

    def issue(name: str, service: int, hhmm: str, day: str = DAY) -> None:
        at(clock, hhmm, day)
        ids[name] = q.issue(service, actor=KIOSK).ticket["id"]

    issue("A1", A, "08:00")
    issue("A2", A, "08:02")
    issue("B1", B, "08:03")
    at(clock, "08:05")
    assert q.call_next(LOKET1, SARI).ticket["id"] == ids["A1"]      # A1 waited 300 s
    at(clock, "08:06")
    q.recall(LOKET1, SARI)                                          # a recall is a call: service from 08:06
    at(clock, "08:10")
    q.finish(LOKET1, SARI)                                          # A1 served: 240 s (not 300), within 8 min
    at(clock, "08:12")
    assert q.call_next(LOKET2, BUDI).ticket["id"] == ids["A2"]      # A2 waited 600 s
    at(clock, "08:14")
    q.transfer(LOKET2, service_id=C, actor=BUDI)                   # A2 moves to C, still counts under A
    at(clock, "08:20")
    assert q.call_next(LOKET2, BUDI).ticket["id"] == ids["B1"]      # B1 waited 1020 s
    at(clock, "08:21")
    q.no_show(LOKET2, BUDI)                                         # B1 no-show at Loket 2 by budi
    at(clock, "08:25")
    assert q.call_next(LOKET3, ANI).ticket["id"] == ids["A2"]       # A2's wait stays 600 s (first call)
    issue("A3", A, "08:30")
    issue("A4", A, "08:31")
    at(clock, "08:32")
    q.call_specific(LOKET1, q.ticket(ids["A4"])["number"], "berkas sudah diperiksa", SARI)  # ahead of A3
    at(clock, "08:35")
    q.finish(LOKET1, SARI)                                          # A4: waited 60 s, served in 180 s
    at(clock, "08:40")
    q.finish(LOKET3, ANI)                                           # A2: 08:25 -> 08:40 = 900 s > C's 600 s
    at(clock, "08:50")
    q.cancel(ids["A3"], SARI, "salah layanan")                      # A3 cancelled
    issue("A5", A, "23:30")                                         # 23:30 WIB = 16:30 UTC: still this day
    issue("A6", A, "00:30", NEXT)                                   # 00:30 WIB = 17:30 UTC the day before in UTC
    return ids


def _summary(client: Any, token: str, start: str, end: str) -> dict[int, dict[str, Any]]:
    r = client.get(f"/api/v1/reports/summary?from={start}&to={end}", headers=bearer(token))
    assert r.status_code == 200, r.json
    return {row["service_id"]: row for row in r.json["services"]}


def test_summary_of_the_fixture_day(client, tokens, fixture_day):
    rows = _summary(client, tokens["admin"], DAY, DAY)
    a = rows[A]
    # A: A1, A2 (transferred to C), A3 (cancelled), A4, A5 (23:30)
    assert (a["issued"], a["served"], a["no_show"], a["cancelled"]) == (5, 3, 0, 1)
    assert a["code"] == "A"
    waits = [300, 600, 60]                     # A1, A2 (first call), A4
    assert a["wait_mean_s"] == pytest.approx((300 + 600 + 60) / 3, abs=0.05)
    assert a["wait_p90_s"] == 600              # ceil(0.9 * 3) = 3rd smallest of sorted [60, 300, 600]
    assert a["wait_median_s"] == 300
    assert sorted(waits)[2] == 600
    assert a["service_mean_s"] == pytest.approx((240 + 900 + 180) / 3, abs=0.05)   # 440
    assert a["service_p90_s"] == 900
    assert a["within_standard_rate"] == pytest.approx(2 / 3, abs=1e-4)  # A1 240<=480, A4 180<=480, A2 900>600
    b = rows[B]
    assert (b["issued"], b["served"], b["no_show"]) == (1, 0, 1)
    assert b["wait_mean_s"] == 1020 and b["wait_p90_s"] == 1020
    assert b["service_mean_s"] is None         # nothing served: null, not 0
    c = rows[C]
    assert (c["issued"], c["served"], c["wait_mean_s"], c["service_mean_s"]) == (0, 0, None, None)
    assert set(a) >= {"service_id", "code", "issued", "served", "no_show", "wait_mean_s", "wait_p90_s",
                      "service_mean_s"}


def test_jakarta_midnight_counts_by_local_date(client, tokens, fixture_day):
    day = _summary(client, tokens["admin"], DAY, DAY)[A]
    next_day = _summary(client, tokens["admin"], NEXT, NEXT)[A]
    both = _summary(client, tokens["admin"], DAY, NEXT)[A]
    assert day["issued"] == 5                  # includes the 23:30 WIB ticket
    assert next_day["issued"] == 1             # only the 00:30 WIB one (which UTC puts on the 23rd)
    assert both["issued"] == 6
    assert next_day["wait_mean_s"] is None


def test_full_report_tables(app, fixture_day):
    from zoneinfo import ZoneInfo

    from antre import reports

    store = app.extensions["antre"].store
    with store.read() as db:
        data = reports.report(db, Period(datetime.fromisoformat(DAY).date(), datetime.fromisoformat(DAY).date()),
                              ZoneInfo("Asia/Jakarta"))
    totals = data["totals"]
    assert (totals["issued"], totals["served"], totals["no_show"], totals["cancelled"], totals["open"]) == \
        (6, 3, 1, 1, 1)
    assert totals["wait_mean_s"] == pytest.approx((60 + 300 + 600 + 1020) / 4, abs=0.05)   # 495
    assert totals["wait_median_s"] == pytest.approx((300 + 600) / 2)                       # 450
    assert totals["wait_p90_s"] == 1020                                                    # ceil(3.6) = 4th
    [tenant] = data["tenants"]
    assert tenant["name"] == "Disdukcapil" and tenant["issued"] == 6
    counters = {c["name"]: c for c in data["counters"]}
    assert counters["Loket 1"]["served"] == 2 and counters["Loket 1"]["service_mean_s"] == pytest.approx(210)
    assert counters["Loket 2"]["served"] == 0 and counters["Loket 2"]["no_show"] == 1
    assert counters["Loket 3"]["served"] == 1 and counters["Loket 3"]["service_mean_s"] == pytest.approx(900)
    staff = {s["actor"]: s for s in data["staff"]}
    assert set(staff) == {"counter:sari", "counter:budi", "counter:ani"}
    assert staff["counter:sari"]["served"] == 2 and staff["counter:budi"]["no_show"] == 1
    hours = {h["hour"]: h["issued"] for h in data["hours"] if h["issued"]}
    assert hours == {8: 5, 23: 1}              # local hours; the 00:30 ticket belongs to the next day
    [flag] = data["out_of_order"]
    assert flag["number"] == "A004" and flag["counter"] == "Loket 1" and flag["actor"] == "counter:sari"
    assert flag["reason"] == "berkas sudah diperiksa"
    assert [d["day"] for d in data["by_day"]] == [DAY]


def test_nearest_rank_and_median_by_hand():
    assert nearest_rank([], 90) is None
    assert nearest_rank([7.0], 90) == 7.0
    ten = [float(v) for v in range(1, 11)]
    assert nearest_rank(ten, 90) == 9.0                 # ceil(9.0) = 9th
    eleven = [float(v) for v in range(1, 12)]
    assert nearest_rank(eleven, 90) == 10.0             # ceil(9.9) = 10th
    twenty = [float(v) for v in range(1, 21)]
    assert nearest_rank(twenty, 90) == 18.0             # ceil(18.0) = 18th
    assert nearest_rank(twenty, 50) == 10.0
    s = Stats.of([5.0, 1.0, 3.0, 2.0])
    assert (s.n, s.mean, s.median, s.p90) == (4, 2.8, 2.5, 5.0)   # (1+2+3+5)/4; (2+3)/2; ceil(3.6)=4th
    assert Stats.of([]) == Stats(0, None, None, None)


@pytest.mark.parametrize("query, code", [
    ("", "missing_date"),
    ("from=2026-11-23", "missing_date"),
    ("from=23-11-2026&to=2026-11-23", "invalid_date"),
    ("from=2026-02-30&to=2026-03-01", "invalid_date"),
    ("from=20261123&to=2026-11-23", "invalid_date"),
    ("from=2026-11-24&to=2026-11-23", "invalid_range"),
    ("from=2025-01-01&to=2026-11-23", "range_too_long"),
])
def test_bad_periods_are_400(client, tokens, query, code):
    for path in ("/api/v1/reports/summary", "/api/v1/reports/ikm"):
        r = client.get(f"{path}?{query}", headers=bearer(tokens["admin"]))
        assert r.status_code == 400, (path, query, r.json)
        assert r.json["error"]["code"] == code


def test_a_year_is_allowed(client, tokens):
    r = client.get("/api/v1/reports/summary?from=2025-11-23&to=2026-11-23", headers=bearer(tokens["admin"]))
    assert r.status_code == 200     # 366 days (2026 is not a leap year, but the range holds 366 dates)


def test_reports_need_an_admin(client, tokens):
    url = f"/api/v1/reports/summary?from={DAY}&to={DAY}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer("nonsense")).status_code == 401
    for role in ("counter", "kiosk", "display", "feed"):
        r = client.get(url, headers=bearer(tokens[role]))
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"


# ------------------------------------------------------------------- CSV


def _login(app: Any, client: Any, role: str = "admin") -> None:
    uid = create_user(app.extensions["antre"].store, f"lap{role}", "kata-sandi-panjang-1", role)
    with client.session_transaction() as s:
        s["user_id"] = uid
        s["login_at"] = time.time()
        s["csrf"] = "t"


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")                        # BOM: Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _num(cell: str) -> float:
    return float(cell.replace(",", "."))                          # decimal comma


def test_csv_files_parse_back(app, client, fixture_day):
    _login(app, client)
    q = f"?from={DAY}&to={DAY}"
    services = {r["kode"]: r for r in _csv(client.get("/admin/reports/services.csv" + q))}
    a = services["A"]
    assert (a["diambil"], a["dilayani"], a["dibatalkan"], a["tidak_hadir"]) == ("5", "3", "1", "0")
    assert _num(a["tunggu_rata_rata_detik"]) == pytest.approx(320)
    assert _num(a["layanan_p90_detik"]) == 900
    assert _num(a["rasio_dalam_standar"]) == pytest.approx(0.6667, abs=1e-4)
    assert services["B"]["layanan_rata_rata_detik"] == ""        # no data: an empty cell
    staff = _csv(client.get("/admin/reports/staff.csv" + q))
    assert {r["pelaku"] for r in staff} == {"counter:sari", "counter:budi", "counter:ani"}
    hours = {r["jam"]: r["diambil"] for r in _csv(client.get("/admin/reports/hours.csv" + q))}
    assert hours["8"] == "5" and hours["23"] == "1" and hours["0"] == "0"
    [flag] = _csv(client.get("/admin/reports/out-of-order.csv" + q))
    assert flag["nomor"] == "A004" and flag["alasan"] == "berkas sudah diperiksa"
    assert flag["waktu"] == f"{DAY} 08:32:00"
    for name in ("tenants", "counters", "days"):
        assert _csv(client.get(f"/admin/reports/{name}.csv" + q))
    assert client.get("/admin/reports/nothing.csv" + q).status_code == 404


def test_csv_neutralizes_formulas_and_keeps_text(app, client, tokens, fixture_day):
    _login(app, client)
    comment = "=HYPERLINK(\"http://x\";\"klik\"); ruang tunggu panas – tolong AC, \"terima kasih\"\nbaris 2"
    r = client.post(f"/api/v1/tickets/{fixture_day['A1']}/survey", json={"scores": [4] * 9, "comment": comment},
                    headers=bearer(tokens["kiosk"]))
    assert r.status_code == 201
    [row] = _csv(client.get(f"/admin/ikm/responses.csv?from={DAY}&to={DAY}"))
    assert row["saran"] == "'" + comment                            # quoted by csv, never a formula
    assert row["nomor"] == "A001" and row["saluran"] == "api" and row["u1"] == "4"


def test_report_page_refuses_bad_dates_kindly(app, client):
    _login(app, client)
    r = client.get("/admin/reports?from=2026-11-24&to=2026-11-23")
    assert r.status_code == 400
    assert "Tanggal awal harus sebelum" in r.get_data(as_text=True)
    r = client.get("/admin/reports?from=kemarin&to=2026-11-23&lang=en")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.get_data(as_text=True)


def test_report_pages_need_staff(app, client):
    r = client.get("/admin/reports")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    _login(app, client, "counter")
    assert client.get("/admin/reports").status_code == 403
    assert client.get(f"/admin/reports/services.csv?from={DAY}&to={DAY}").status_code == 403


def test_supervisor_reads_reports(app, client, fixture_day):
    _login(app, client, "supervisor")
    r = client.get(f"/admin/reports?from={DAY}&to={DAY}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="total-issued">6<' in html and "A004" in html


def test_period_days_are_listed(app):
    p = Period(datetime(2026, 11, 30).date(), datetime(2026, 12, 2).date())
    assert p.days == 3 and [d.isoformat() for d in p.dates()] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert p.start + timedelta(days=2) == p.end
