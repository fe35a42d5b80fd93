"""The SKM survey endpoint and the IKM, against examples worked out by hand."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from antre import survey
from antre.auth import create_user
from antre.queue import Actor, Queue
from antre.rules import RuleError
from tests.conftest import bearer

DAY = "2026-11-23"
SARI = Actor("sari", "counter", device="ip:10.0.0.21")


def _served(app: Any, clock: Any, service_id: int = 1, counter_id: int = 1, transfer_to: int | None = None) -> dict:
    """A ticket issued, called and served through the real core; its row."""
    q = Queue(app.extensions["antre"].store, clock, "http://antre.test")
    ticket = q.issue(service_id).ticket
    clock.advance(60)
    q.call_next(counter_id, SARI)
    if transfer_to is not None:
        q.transfer(counter_id, service_id=transfer_to, actor=SARI)
        q.call_next(3, SARI)  # Loket 3 serves B, C and D
        counter_id = 3
    clock.advance(120)
    q.finish(counter_id, SARI)
    with app.extensions["antre"].store.read() as db:
        return dict(db.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket["id"],)).fetchone())


def _post(client: Any, ticket_id: int, body: Any, headers: dict[str, str]) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/survey", json=body, headers=headers)


# ------------------------------------------------------------ IKM by hand


def test_ikm_worked_example_four_respondents():
    responses = [
        [4, 4, 3, 4, 4, 4, 4, 3, 4],
        [3, 3, 3, 4, 3, 3, 4, 3, 3],
        [4, 3, 2, 4, 3, 4, 4, 2, 3],
        [3, 4, 3, 4, 4, 3, 4, 3, 3],
    ]
    # By hand: element totals 14 14 11 16 14 14 16 11 13 (sum 123); means 3.50 3.50 2.75 4.00 3.50 3.50 4.00
    # 2.75 3.25; IKM = (123 / 4) / 9 = 3.41666...; converted = 85.41666... -> 85.42, grade B (76.61-88.30).
    index = survey.ikm_of(responses)
    assert index.responses == 4
    assert [str(m) for m in index.element_means] == ["3.50", "3.50", "2.75", "4.00", "3.50", "3.50", "4.00",
                                                     "2.75", "3.25"]
    assert index.ikm == Decimal("85.42") and index.grade == "B"
    assert index.as_json() == {"responses": 4, "element_means": [3.5, 3.5, 2.75, 4.0, 3.5, 3.5, 4.0, 2.75, 3.25],
                               "ikm": 85.42, "grade": "B"}


def test_ikm_extremes_and_weights():
    assert survey.ikm_of([[4] * 9]).ikm == Decimal("100.00")   # exact 1/9 weights: a perfect score is 100
    assert survey.ikm_of([[4] * 9]).grade == "A"
    assert survey.ikm_of([[1] * 9]).ikm == Decimal("25.00")
    assert survey.ikm_of([[1] * 9]).grade == "D"
    # One 3 among eights 4s: (35 / 9) x 25 = 97.2222... -> 97.22
    assert survey.ikm_of([[4, 4, 4, 4, 4, 4, 4, 4, 3]]).ikm == Decimal("97.22")


def test_ikm_rounds_half_up_exactly():
    # 1,000 responses, every element totalling 3,401: mean 3.401, 3.401 x 25 = 85.025 exactly.
    # Half-up gives 85.03 (binary floating point would give 85.02).
    index = survey.ikm_from_sums(1000, [3401] * 9)
    assert index.ikm == Decimal("85.03")
    assert round(3.401 * 25, 2) == 85.02   # what a float would have said


def test_grade_from_the_two_decimal_figure():
    # 10,000 responses totalling 35,322 per element: mean 3.5322, x 25 = 88.305 -> shown 88.31 -> A,
    # so that the figure on the page and its grade agree (the bands are stated to two decimals).
    index = survey.ikm_from_sums(10000, [35322] * 9)
    assert index.raw == Decimal("88.305")
    assert (index.ikm, index.grade) == (Decimal("88.31"), "A")
    for value, grade in (("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
                         ("65.00", "C"), ("64.99", "D"), ("25.00", "D")):
        assert survey.grade_of(Decimal(value)) == grade, value


def test_no_responses_is_null():
    index = survey.ikm_of([])
    assert index.as_json() == {"responses": 0, "element_means": [None] * 9, "ikm": None, "grade": None}


def test_the_nine_elements_in_the_regulation_order():
    names = [e.name for e in survey.ELEMENTS]
    assert names == ["Persyaratan", "Sistem, Mekanisme, dan Prosedur", "Waktu Penyelesaian", "Biaya/Tarif",
                     "Produk Spesifikasi Jenis Pelayanan", "Kompetensi Pelaksana", "Perilaku Pelaksana",
                     "Penanganan Pengaduan, Saran dan Masukan", "Sarana dan Prasarana"]
    for e in survey.ELEMENTS:
        assert e.question.startswith("Bagaimana ") and e.question.endswith("?")
        assert len(e.answers) == 4 and len(e.answers_en) == 4 and e.name_en and e.question_en
    assert survey.ELEMENTS[3].answers == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")


@pytest.mark.parametrize("scores", [
    None, "4444", [4] * 8, [4] * 10, [4] * 8 + [0], [4] * 8 + [5], [4] * 8 + [True], [4] * 8 + ["4"],
    [4] * 8 + [3.5], [4] * 8 + [None],
])
def test_bad_scores(scores):
    with pytest.raises(RuleError) as exc:
        survey.validate_scores(scores)
    assert exc.value.code == "invalid_scores" and exc.value.status == 400


def test_comment_rules():
    assert survey.validate_scores([4.0] * 9) == [4] * 9           # JSON's 4.0 is the integer 4
    assert survey.clean_comment(None) == ""
    assert survey.clean_comment("  ok\x00\x07 baik\n ") == "ok baik"
    assert survey.clean_comment("x" * 500) == "x" * 500
    for bad, code in (("x" * 501, "comment_too_long"), (42, "invalid_comment")):
        with pytest.raises(RuleError) as exc:
            survey.clean_comment(bad)
        assert exc.value.code == code


# ------------------------------------------------------- the endpoint


def test_survey_by_token_then_refused_twice(app, client, clock, tokens):
    row = _served(app, clock)
    r = _post(client, row["id"], {"scores": [4, 3, 3, 4, 4, 3, 4, 2, 3], "comment": "Petugas ramah"},
              bearer(tokens["display"]))
    assert r.status_code == 201, r.json
    assert r.json["channel"] == "api" and r.json["ticket_id"] == row["id"] and r.json["number"] == "A001"
    again = _post(client, row["id"], {"scores": [1] * 9}, bearer(tokens["admin"]))
    assert again.status_code == 409 and again.json["error"]["code"] == "survey_exists"
    with app.extensions["antre"].store.read() as db:
        stored = db.conn.execute("SELECT * FROM surveys").fetchall()
        audit = db.conn.execute("SELECT * FROM audit WHERE action = 'survey.submitted'").fetchall()
    assert len(stored) == 1 and [stored[0][f"u{i}"] for i in range(1, 10)] == [4, 3, 3, 4, 4, 3, 4, 2, 3]
    assert stored[0]["comment"] == "Petugas ramah" and stored[0]["day"] == DAY
    [a] = audit
    assert a["ticket_id"] == row["id"] and json.loads(a["details"]) == {"channel": "api", "number": "A001"}


def test_survey_refusals(app, client, clock, tokens):
    q = Queue(app.extensions["antre"].store, clock, "http://antre.test")
    waiting = q.issue(1).ticket
    h = bearer(tokens["kiosk"])
    r = _post(client, waiting["id"], {"scores": [4] * 9}, h)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_served"
    q.call_next(1, SARI)
    q.no_show(1, SARI)
    assert _post(client, waiting["id"], {"scores": [4] * 9}, h).json["error"]["code"] == "not_served"
    r = _post(client, 999999, {"scores": [4] * 9}, h)
    assert r.status_code == 404 and r.json["error"]["code"] == "ticket_not_found"
    row = _served(app, clock)
    for body, code in (({"scores": [4] * 8}, "invalid_scores"), ({"scores": [4] * 8 + [9]}, "invalid_scores"),
                       ({}, "invalid_scores"), ({"scores": [4] * 9, "comment": "x" * 501}, "comment_too_long"),
                       ({"scores": [4] * 9, "comment": ["x"]}, "invalid_comment")):
        r = _post(client, row["id"], body, h)
        assert r.status_code == 400 and r.json["error"]["code"] == code, body
    assert client.post(f"/api/v1/tickets/{row['id']}/survey", data="[1]", headers=h,
                       content_type="application/json").status_code == 400
    assert client.post(f"/api/v1/tickets/{row['id']}/survey", data="scores=4", headers=h,
                       content_type="text/plain").status_code == 415
    assert _post(client, row["id"], {"scores": [4] * 9}, {}).status_code == 401
    assert _post(client, row["id"], {"scores": [4] * 9}, bearer("wrong")).status_code == 401
    with app.extensions["antre"].store.read() as db:
        assert db.conn.execute("SELECT COUNT(*) FROM surveys").fetchone()[0] == 0  # nothing was stored


def test_survey_from_the_tracking_page(app, client, clock, tokens):
    row = _served(app, clock)
    other = _served(app, clock)
    assert _post(client, row["id"], {"scores": [4] * 9}, {"X-Antre-Track": "x" * 24}).status_code == 401
    r = _post(client, row["id"], {"scores": [4] * 9}, {"X-Antre-Track": other["track_token"]})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_track_token"
    r = _post(client, 424242, {"scores": [4] * 9}, {"X-Antre-Track": row["track_token"]})
    assert r.status_code == 401          # an unknown ticket says no more than a wrong token
    r = _post(client, row["id"], {"scores": [3] * 9, "comment": "cepat"}, {"X-Antre-Track": row["track_token"]})
    assert r.status_code == 201 and r.json["channel"] == "tracking"
    assert _post(client, row["id"], {"scores": [3] * 9},
                 {"X-Antre-Track": row["track_token"]}).json["error"]["code"] == "survey_exists"
    # A bearer token wins over the header (the header is only read without Authorization).
    r = _post(client, other["id"], {"scores": [2] * 9}, {**bearer(tokens["admin"]), "X-Antre-Track": "nonsense"})
    assert r.status_code == 201 and r.json["channel"] == "api"


def test_survey_from_a_tablet_session_needs_csrf(app, client, clock):
    row = _served(app, clock)
    uid = create_user(app.extensions["antre"].store, "petugas1", "kata-sandi-panjang-1", "counter")
    with client.session_transaction() as s:
        s["user_id"], s["login_at"], s["csrf"] = uid, time.time(), "csrf-1"
    assert _post(client, row["id"], {"scores": [4] * 9}, {}).status_code == 403       # no CSRF token
    r = _post(client, row["id"], {"scores": [4] * 9}, {"X-CSRF-Token": "csrf-1"})
    assert r.status_code == 201 and r.json["channel"] == "tablet"


def test_survey_counts_under_the_origin_service(app, client, clock, tokens):
    row = _served(app, clock, service_id=1, counter_id=2, transfer_to=3)   # issued for A, served in C
    assert row["service_id"] == 3 and row["origin_service_id"] == 1
    r = _post(client, row["id"], {"scores": [4] * 9}, bearer(tokens["admin"]))
    assert r.status_code == 201 and r.json["service_id"] == 1 and r.json["tenant_id"] == 1


def test_one_response_per_ticket_under_concurrency(app, clock):
    from antre import reports

    row = _served(app, clock)
    store = app.extensions["antre"].store

    def submit(n: int) -> str:
        try:
            store.run_write(lambda db: reports.submit_survey(db, row["id"], [n % 4 + 1] * 9, "", "api",
                                                              actor="test", device=None, now=clock.now()))
            return "ok"
        except RuleError as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(16)))
    assert results.count("ok") == 1 and results.count("survey_exists") == 15


# ------------------------------------------------------------- IKM API


def test_ikm_api_with_the_worked_example(app, client, clock, tokens):
    responses = [[4, 4, 3, 4, 4, 4, 4, 3, 4], [3, 3, 3, 4, 3, 3, 4, 3, 3], [4, 3, 2, 4, 3, 4, 4, 2, 3],
                 [3, 4, 3, 4, 4, 3, 4, 3, 3]]
    for scores in responses:
        row = _served(app, clock)
        assert _post(client, row["id"], {"scores": scores}, bearer(tokens["kiosk"])).status_code == 201
    imigrasi = _served(app, clock, service_id=7, counter_id=5)   # P (Paspor Baru), tenant 2, Loket 5
    assert _post(client, imigrasi["id"], {"scores": [1] * 9}, bearer(tokens["kiosk"])).status_code == 201
    h = bearer(tokens["admin"])
    r = client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}&tenant_id=1", headers=h)
    assert r.status_code == 200
    assert {k: r.json[k] for k in ("responses", "element_means", "ikm", "grade")} == {
        "responses": 4, "element_means": [3.5, 3.5, 2.75, 4.0, 3.5, 3.5, 4.0, 2.75, 3.25], "ikm": 85.42,
        "grade": "B"}
    r = client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}&tenant_id=2", headers=h)
    assert (r.json["responses"], r.json["ikm"], r.json["grade"]) == (1, 25.0, "D")
    # All five: totals 14+1 ... = 123 + 9 = 132 over 5 responses: 132 / 5 / 9 x 25 = 73.333... -> 73.33, C
    r = client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}", headers=h)
    assert (r.json["responses"], r.json["ikm"], r.json["grade"]) == (5, 73.33, "C")
    r = client.get("/api/v1/reports/ikm?from=2026-11-24&to=2026-11-30", headers=h)
    assert r.json["responses"] == 0 and r.json["ikm"] is None and r.json["grade"] is None
    assert r.json["element_means"] == [None] * 9
    for bad in ("0", "-1", "abc", "1.5"):
        r = client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}&tenant_id={bad}", headers=h)
        assert r.status_code == 400 and r.json["error"]["code"] == "invalid_tenant_id"
    r = client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}&tenant_id=999", headers=h)
    assert r.status_code == 404 and r.json["error"]["code"] == "tenant_not_found"
    assert client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}",
                      headers=bearer(tokens["counter"])).status_code == 403


def test_ikm_page_and_csv(app, client, clock, tokens):
    import csv
    import io

    row = _served(app, clock)
    _post(client, row["id"], {"scores": [4, 4, 3, 4, 4, 4, 4, 3, 4]}, bearer(tokens["kiosk"]))
    uid = create_user(app.extensions["antre"].store, "manajer", "kata-sandi-panjang-1", "admin")
    with client.session_transaction() as s:
        s["user_id"], s["login_at"], s["csrf"] = uid, time.time(), "c"
    html = client.get(f"/admin/ikm?from={DAY}&to={DAY}").get_data(as_text=True)
    # (4+4+3+4+4+4+4+3+4) = 34; 34 / 9 x 25 = 94.444... -> 94,44 (Indonesian decimal comma), A
    assert 'id="ikm-value">94,44<' in html and 'id="ikm-grade">A<' in html and "Sangat baik" in html
    en = client.get(f"/admin/ikm?from={DAY}&to={DAY}&lang=en").get_data(as_text=True)
    assert "94.44" in en and "Very good" in en and "Requirements" in en
    text = client.get(f"/admin/ikm/tenants.csv?from={DAY}&to={DAY}").data.decode("utf-8-sig")
    [tenant] = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert tenant["responden"] == "1" and tenant["ikm"] == "94,44" and tenant["mutu"] == "A"
    assert tenant["u3_rata_rata"] == "3,00"
    text = client.get(f"/admin/ikm/months.csv?from={DAY}&to={DAY}").data.decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(text), delimiter=";"))[0]["bulan"] == "2026-11"


def test_pending_survey_for_the_tablet(app, client, clock, tokens):
    from antre import reports

    row = _served(app, clock)
    store = app.extensions["antre"].store
    with store.read() as db:
        pending = reports.pending_survey(db, 1, clock.now())
    assert pending["ticket_id"] == row["id"] and pending["number"] == "A001"
    with store.read() as db:
        assert reports.pending_survey(db, 2, clock.now()) is None            # another counter
        later = datetime.fromtimestamp(clock.now().timestamp() + 16 * 60, clock.tz)
        assert reports.pending_survey(db, 1, later) is None                   # 15 minutes have passed
    _post(client, row["id"], {"scores": [4] * 9}, bearer(tokens["display"]))
    with store.read() as db:
        assert reports.pending_survey(db, 1, clock.now()) is None            # answered


def test_answers_match_the_openapi_document(app, client, clock, tokens):
    """The 200/201 bodies of the three operations, with data and without, against /openapi.json."""
    import jsonschema_rs  # schemathesis' validator (installed with it)

    doc = client.get("/openapi.json").json
    row = _served(app, clock)
    created = _post(client, row["id"], {"scores": [4, 3, 2, 1, 4, 3, 2, 1, 4], "comment": None},
                    bearer(tokens["admin"]))
    h = bearer(tokens["admin"])
    answers = [
        ("/api/v1/tickets/{id}/survey", "post", "201", created),
        ("/api/v1/reports/summary", "get", "200", client.get(f"/api/v1/reports/summary?from={DAY}&to={DAY}",
                                                             headers=h)),
        ("/api/v1/reports/summary", "get", "200", client.get("/api/v1/reports/summary?from=2020-01-01&to=2020-01-01",
                                                             headers=h)),
        ("/api/v1/reports/ikm", "get", "200", client.get(f"/api/v1/reports/ikm?from={DAY}&to={DAY}", headers=h)),
        ("/api/v1/reports/ikm", "get", "200", client.get("/api/v1/reports/ikm?from=2020-01-01&to=2020-01-01",
                                                         headers=h)),
        ("/api/v1/reports/ikm", "get", "400", client.get("/api/v1/reports/ikm?from=2020-01-02&to=2020-01-01",
                                                         headers=h)),
    ]
    for path, method, status, response in answers:
        assert str(response.status_code) == status, (path, response.json)
        schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        jsonschema_rs.validator_for({**schema, "components": doc["components"]}).validate(response.json)
