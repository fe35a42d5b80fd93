"""The audit log: filters, paging back, and the hash-chain check (admin and supervisors)."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l

from admin import bp
from admin.access import admin_page, config, render
from admin.forms import FormState, form_values
from antre.rules import RuleError
from web.context import antre

#: plain words for the actions the log holds (unknown ones are shown as they are)
ACTION_LABELS: dict[str, Any] = {
    "ticket.issued": _l("Nomor diambil"),
    "ticket.called": _l("Nomor dipanggil"),
    "ticket.recalled": _l("Nomor dipanggil ulang"),
    "ticket.started": _l("Pelayanan dimulai"),
    "ticket.served": _l("Selesai dilayani"),
    "ticket.no_show": _l("Tidak hadir"),
    "ticket.transferred": _l("Dialihkan"),
    "ticket.cancelled": _l("Dibatalkan"),
    "login.ok": _l("Log masuk"),
    "login.failed": _l("Log masuk gagal"),
    "tenant.created": _l("Instansi ditambahkan"),
    "tenant.updated": _l("Instansi diubah"),
    "tenant.activated": _l("Instansi diaktifkan"),
    "tenant.deactivated": _l("Instansi dinonaktifkan"),
    "service.created": _l("Layanan ditambahkan"),
    "service.updated": _l("Layanan diubah"),
    "service.activated": _l("Layanan diaktifkan"),
    "service.deactivated": _l("Layanan dinonaktifkan"),
    "counter.created": _l("Loket ditambahkan"),
    "counter.updated": _l("Loket diubah"),
    "counter.activated": _l("Loket diaktifkan"),
    "counter.deactivated": _l("Loket dinonaktifkan"),
    "user.created": _l("Akun dibuat"),
    "user.updated": _l("Akun diubah"),
    "user.password_reset": _l("Kata sandi diganti"),
    "user.activated": _l("Akun diaktifkan"),
    "user.deactivated": _l("Akun dinonaktifkan"),
    "user.unlocked": _l("Kunci akun dibuka"),
    "token.created": _l("Token dibuat"),
    "token.revoked": _l("Token dicabut"),
    "device.paired": _l("Perangkat dipasangkan"),
    "settings.updated": _l("Pengaturan diubah"),
    "webhook.created": _l("Webhook ditambahkan"),
    "webhook.deleted": _l("Webhook dihapus"),
    "webhook.paused": _l("Webhook dijeda"),
    "webhook.resumed": _l("Webhook dilanjutkan"),
    "counter.taken": _l("Loket dipakai petugas"),
    "counter.released": _l("Loket dilepas"),
    "counter.paused": _l("Loket istirahat"),
    "counter.resumed": _l("Loket buka lagi"),
    "booking.created": _l("Pemesanan online masuk"),
    "booking.cancelled": _l("Pemesanan online dibatalkan"),
    "kiosk.printer_set": _l("Printer kiosk diatur"),
    "printer.alert": _l("Peringatan printer"),
    "survey.submitted": _l("Survei kepuasan diisi"),
    "settings.feed": _l("Pengaturan feed diubah"),
    "audit.verified": _l("Rantai hash diverifikasi"),
    "demo.seeded": _l("Data demo dibuat"),
}
FILTERS = ("action", "actor", "from", "to")


def _entries(form: FormState) -> dict[str, Any]:
    before = request.args.get("before", type=int)
    try:
        return antre().run(config().audit_entries, action=form.values["action"], actor=form.values["actor"],
                           day_from=form.values["from"], day_to=form.values["to"], before=before, limit=50)
    except RuleError as exc:
        form.refused(exc)
        return {"rows": [], "next_before": None}


def _page(status: int = 200, check: dict[str, Any] | None = None) -> Any:
    form = FormState(values=form_values(request.args, *FILTERS))
    page = _entries(form)
    actions = antre().run(config().audit_actions)
    options = [(a, f"{ACTION_LABELS[a]} ({a})" if a in ACTION_LABELS else a) for a in actions]
    return render("admin/audit.html", 400 if form.errors else status, form=form, page=page,
                  action_options=options, labels=ACTION_LABELS, check=check,
                  filters={k: v for k, v in form.values.items() if v})


@bp.get("/audit")
@admin_page("audit")
def audit() -> Any:
    return _page()


@bp.post("/audit/verify")
@admin_page("audit")
def audit_verify() -> Any:
    """Recompute the whole hash chain (``python server.py audit verify`` does the same)."""
    check = antre().run(config().verify_audit, g.actor)
    return _page(200, check=check)
