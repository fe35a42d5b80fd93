"""The report pages of the admin: ``/admin/reports`` and ``/admin/ikm``, and their CSV files.

Admin and supervisor sessions (``@admin_page("reports")``, the admin's own
guard and layout).  Every figure is drawn by the server as a table; the
charts (chart.js, served locally) are drawn from the same figures, which the
page carries as JSON, and each chart names the table that holds its data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from admin.access import admin_page, render
from admin.forms import FormState
from antre import reports as core
from antre import survey
from antre.rules import RuleError
from reports import bp, csvout
from web.context import antre


def _read(fn: Any, *args: Any) -> Any:
    store = antre().store

    def read() -> Any:
        with store.read() as db:
            return fn(db, *args)

    return antre().run(read)


def _lang() -> str:
    return str(get_locale() or "id")


def _period_form() -> tuple[core.Period | None, FormState]:
    """The period asked for (today when nothing is asked), or the form with its errors."""
    today = antre().clock.today()
    start = request.args.get("from") or today.isoformat()
    end = request.args.get("to") or start
    form = FormState(values={"from": start, "to": end})
    try:
        return core.parse_period(start, end), form
    except RuleError as exc:
        messages = {
            "missing_date": _("Isi tanggal dengan format YYYY-MM-DD."),
            "invalid_date": _("Tanggal tidak sah. Gunakan format YYYY-MM-DD, misalnya %(d)s.", d=today.isoformat()),
            "invalid_range": _("Tanggal awal harus sebelum atau sama dengan tanggal akhir."),
            "range_too_long": _("Rentang laporan paling panjang %(n)s hari.", n=core.MAX_RANGE_DAYS),
        }
        form.errors[str(exc.details.get("field", "from"))] = messages.get(exc.code, exc.message)
        return None, form


def _shortcuts(endpoint: str) -> list[dict[str, str]]:
    """Quick periods: today, yesterday, the last 7 days, this month, last month."""
    today = antre().clock.today()
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    spans: list[tuple[str, date, date]] = [
        (_("Hari ini"), today, today),
        (_("Kemarin"), today - timedelta(days=1), today - timedelta(days=1)),
        (_("7 hari terakhir"), today - timedelta(days=6), today),
        (_("Bulan ini"), first, today),
        (_("Bulan lalu"), last_month_end.replace(day=1), last_month_end),
    ]
    return [{"label": label, "url": url_for(endpoint, **{"from": a.isoformat(), "to": b.isoformat()})}
            for label, a, b in spans]


def fmt_number(value: Any, digits: int = 0) -> str:
    """A number the way the page's language writes it (1.234,5 in Indonesian, 1,234.5 in English)."""
    if value is None:
        return "–"
    text = f"{float(value):,.{digits}f}"
    if _lang() != "en":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_minutes(seconds: Any) -> str:
    """Seconds as minutes with one decimal ("–" for no data)."""
    return "–" if seconds is None else fmt_number(float(seconds) / 60, 1)


def fmt_percent(rate: Any) -> str:
    return "–" if rate is None else fmt_number(float(rate) * 100, 1) + " %"


FORMAT = {"num": fmt_number, "min": fmt_minutes, "pct": fmt_percent}


def _period_args(period: core.Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


# ------------------------------------------------------------------ reports


@bp.get("/admin/reports")
@admin_page("reports")
def report_page() -> Any:
    period, form = _period_form()
    data = None
    if period is not None:
        data = _read(core.report, period, antre().clock.tz)
    status = 200 if period is not None else 400
    return render("reports/report.html", status, fmt=FORMAT, form=form, period=period, data=data, active="reports",
                  shortcuts=_shortcuts("reports.report_page"),
                  period_args=_period_args(period) if period else {},
                  chart_data=_chart_data(data) if data else None)


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What the three charts draw (the same figures as their tables)."""
    busy = [h["hour"] for h in data["hours"] if h["issued"]]
    first, last = (min(busy + [7]), max(busy + [16])) if busy else (7, 16)  # at least the working day
    hours = data["hours"][first:last + 1]
    return {
        "lang": _lang(),
        "hours": {"labels": [f"{h['hour']:02d}" for h in hours], "issued": [h["issued"] for h in hours],
                  "label": _("Jumlah nomor diambil")},
        "tenants": {
            "labels": [t["name"] for t in data["tenants"]],
            "wait": [None if t["wait_mean_s"] is None else round(t["wait_mean_s"] / 60, 1) for t in data["tenants"]],
            "service": [None if t["service_mean_s"] is None else round(t["service_mean_s"] / 60, 1)
                        for t in data["tenants"]],
            "wait_label": _("Rata-rata tunggu (menit)"), "service_label": _("Rata-rata layanan (menit)"),
        },
        "days": {"labels": [d["day"] for d in data["by_day"]], "issued": [d["issued"] for d in data["by_day"]],
                 "served": [d["served"] for d in data["by_day"]], "issued_label": _("Diambil"),
                 "served_label": _("Selesai dilayani")},
    }


#: CSV column sets: (header, key) pairs; keys of the report rows
FIGURE_COLUMNS = [
    ("issued", "diambil"), ("served", "dilayani"), ("no_show", "tidak_hadir"), ("cancelled", "dibatalkan"),
    ("open", "belum_selesai"), ("no_show_rate", "rasio_tidak_hadir"), ("called", "dipanggil"),
    ("wait_mean_s", "tunggu_rata_rata_detik"), ("wait_median_s", "tunggu_median_detik"),
    ("wait_p90_s", "tunggu_p90_detik"), ("service_mean_s", "layanan_rata_rata_detik"),
    ("service_median_s", "layanan_median_detik"), ("service_p90_s", "layanan_p90_detik"),
    ("within_standard", "dalam_standar"), ("within_standard_rate", "rasio_dalam_standar"),
]
REPORT_TABLES: dict[str, tuple[str, list[tuple[str, str]], bool]] = {
    # name: (data key, leading columns (key, header), with the figure columns)
    "tenants": ("tenants", [("tenant_id", "id_instansi"), ("code", "kode"), ("name", "instansi")], True),
    "services": ("services", [("service_id", "id_layanan"), ("code", "kode"), ("name", "layanan"),
                              ("tenant", "instansi"), ("standard_minutes", "standar_menit")], True),
    "counters": ("counters", [("counter_id", "id_loket"), ("name", "loket"), ("zone", "zona")], True),
    "staff": ("staff", [("actor", "pelaku"), ("name", "nama"), ("role", "peran")], True),
    "days": ("by_day", [("day", "tanggal")], True),
    "hours": ("hours", [("hour", "jam"), ("issued", "diambil"), ("per_day", "rata_rata_per_hari")], False),
    "out-of-order": ("out_of_order", [("at", "waktu"), ("number", "nomor"), ("service_code", "kode_layanan"),
                                      ("service", "layanan"), ("counter", "loket"), ("actor", "pelaku"),
                                      ("device", "perangkat"), ("reason", "alasan"), ("audit_id", "id_audit")],
                     False),
}


@bp.get("/admin/reports/<name>.csv")
@admin_page("reports")
def report_csv(name: str) -> Any:
    if name not in REPORT_TABLES:
        abort(404)
    period, form = _period_form()
    if period is None:
        return render("reports/report.html", 400, fmt=FORMAT, form=form, period=None, data=None, active="reports",
                      shortcuts=_shortcuts("reports.report_page"), period_args={}, chart_data=None)
    data = _read(core.report, period, antre().clock.tz)
    key, lead, figures = REPORT_TABLES[name]
    columns = lead + (FIGURE_COLUMNS if figures else [])
    rows = data[key]
    if name == "out-of-order":
        rows = [{**r, "at": r["at"].replace("T", " ")[:19]} for r in rows]
    return csvout.response(f"antre-{name}-{period.start}_{period.end}.csv", [h for _k, h in columns],
                           ([r.get(k) for k, _h in columns] for r in rows))


# ---------------------------------------------------------------------- IKM


def _elements() -> list[dict[str, Any]]:
    en = _lang() == "en"
    return [{"code": e.code, "name": e.name_en if en else e.name, "question": e.question_en if en else e.question}
            for e in survey.ELEMENTS]


def _grade_label(grade: str | None) -> str:
    if grade is None:
        return ""
    label_id, label_en = survey.GRADE_LABELS[grade]
    return label_en if _lang() == "en" else label_id


@bp.get("/admin/ikm")
@admin_page("reports")
def ikm_page() -> Any:
    period, form = _period_form()
    data = _read(core.ikm_report, period) if period is not None else None
    counters = _read(lambda db: [dict(r) for r in db.conn.execute(
        "SELECT id, name FROM counters WHERE active = 1 ORDER BY sort, id")])
    chart = None
    if data is not None:
        chart = {"labels": [f"{e['code']} {e['name']}" for e in _elements()],
                 "means": [None if m is None else float(m) for m in data["overall"]["element_means"]],
                 "label": _("Nilai rata-rata unsur (1–4)"), "lang": _lang()}
    return render("reports/ikm.html", 200 if period is not None else 400, fmt=FORMAT, form=form, period=period,
                  data=data, active="reports", shortcuts=_shortcuts("reports.ikm_page"), elements=_elements(),
                  grade_label=_grade_label, grades=survey.GRADES, counters=counters, chart_data=chart,
                  period_args=_period_args(period) if period else {})


def _ikm_columns() -> list[str]:
    return [f"u{i}_rata_rata" for i in range(1, survey.N_ELEMENTS + 1)] + ["ikm", "mutu"]


def _ikm_cells(row: dict[str, Any]) -> list[Any]:
    return [row["responses"], *row["element_means"], row["ikm"], row["grade"]]


@bp.get("/admin/ikm/<name>.csv")
@admin_page("reports")
def ikm_csv(name: str) -> Any:
    if name not in ("tenants", "services", "months", "responses"):
        abort(404)
    period, form = _period_form()
    if period is None:
        return render("reports/ikm.html", 400, fmt=FORMAT, form=form, period=None, data=None, active="reports",
                      shortcuts=_shortcuts("reports.ikm_page"), elements=_elements(), grade_label=_grade_label,
                      grades=survey.GRADES, counters=[], chart_data=None, period_args={})
    filename = f"antre-skm-{name}-{period.start}_{period.end}.csv"
    if name == "responses":
        rows = _read(core.survey_rows, period, antre().clock.tz)
        header = ["id", "tanggal_layanan", "waktu_isi", "nomor", "instansi", "kode_layanan", "layanan", "loket",
                  "saluran", *[f"u{i}" for i in range(1, survey.N_ELEMENTS + 1)], "saran"]
        return csvout.response(filename, header, (
            [r["id"], r["day"], r["at"].replace("T", " ")[:19], r["number"], r["tenant"], r["service_code"],
             r["service"], r["counter"], r["channel"], *r["scores"], r["comment"]] for r in rows))
    data = _read(core.ikm_report, period)
    if name == "tenants":
        header = ["id_instansi", "instansi", "responden", *_ikm_columns()]
        body = ([r["tenant_id"], r["name"], *_ikm_cells(r)] for r in data["tenants"])
    elif name == "services":
        header = ["id_layanan", "kode", "layanan", "instansi", "responden", *_ikm_columns()]
        body = ([r["service_id"], r["code"], r["name"], r["tenant"], *_ikm_cells(r)] for r in data["services"])
    else:
        header = ["bulan", "responden", *_ikm_columns()]
        body = ([r["month"], *_ikm_cells(r)] for r in data["months"])
    return csvout.response(filename, header, body)
