"""Tenants, services and counters (admin only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from admin import bp
from admin.access import admin_page, attempt, config, publish, render
from admin.forms import FormState, form_values, hours_fields, hours_from_form, priority_fields, priority_from_form
from antre.config import Change
from antre.rules import ALWAYS_OPEN, WEEKDAYS, RuleError
from web.context import antre

TENANT_FORM = ("code", "name_id", "name_en", "icon", "sort")
SERVICE_FORM = ("tenant_id", "code", "name_id", "name_en", "icon", "quota_walkin", "quota_online",
                "standard_minutes", "sort")
COUNTER_FORM = ("name", "zone", "sort")
WORKDAY_HOURS = {d: ([["08:00", "15:00"]] if d in WEEKDAYS[:5] else []) for d in WEEKDAYS}


def _saved(change: Change, message: str, endpoint: str, **values: Any) -> Any:
    flash(message if change.changed else _("Tidak ada perubahan."), "ok")
    return redirect(url_for(endpoint, **values), 303)


def _toggle(kind: str, setter: Callable[..., Change], item_id: int, endpoint: str, **values: Any) -> Any:
    active = request.form.get("active") == "1"
    try:
        change = antre().run(setter, g.actor, item_id, active)
    except RuleError as exc:
        flash(exc.message, "error")
        return redirect(url_for(endpoint, **values), 303)
    publish(change)
    if change.changed:
        flash(_("%(kind)s diaktifkan.", kind=kind) if active else _("%(kind)s dinonaktifkan.", kind=kind), "ok")
    return redirect(url_for(endpoint, **values), 303)


# ------------------------------------------------------------------ tenants


@bp.route("/tenants", methods=["GET", "POST"])
@admin_page("setup")
def tenants() -> Any:
    form = FormState(values={"sort": "0"})
    if request.method == "POST":
        form.values = form_values(request.form, *TENANT_FORM)
        change = attempt(form, config().create_tenant, g.actor, form.values)
        if change is not None:
            return _saved(change, _("Instansi %(name)s ditambahkan.", name=change.data["name_id"]), "admin.tenants")
    rows = antre().run(config().tenants)
    return render("admin/tenants.html", 400 if form.errors else 200, rows=rows, form=form)


@bp.route("/tenants/<id:tenant_id>", methods=["GET", "POST"])
@admin_page("setup")
def tenant(tenant_id: int) -> Any:
    try:
        current = antre().run(config().tenant, tenant_id)
    except RuleError:
        return render("admin/not_found.html", 404)
    form = FormState(values={k: current[k] for k in TENANT_FORM})
    if request.method == "POST":
        form.values = form_values(request.form, *TENANT_FORM)
        change = attempt(form, config().update_tenant, g.actor, tenant_id, form.values)
        if change is not None:
            return _saved(change, _("Instansi disimpan."), "admin.tenants")
    return render("admin/tenant_form.html", 400 if form.errors else 200, item=current, form=form)


@bp.post("/tenants/<id:tenant_id>/active")
@admin_page("setup")
def tenant_active(tenant_id: int) -> Any:
    return _toggle(_("Instansi"), config().set_tenant_active, tenant_id, "admin.tenant", tenant_id=tenant_id)


# ----------------------------------------------------------------- services


def _service_fields(form: FormState) -> dict[str, Any]:
    """The form as :meth:`Config.create_service` takes it; grid problems are refused here."""
    fields: dict[str, Any] = {k: form.values.get(k, "") for k in SERVICE_FORM}
    fields["hours"] = hours_from_form(request.form)
    fields["priority_rule"] = priority_from_form(request.form)
    return fields


def _attempt_service(form: FormState, action: Callable[..., Change], *args: Any) -> Change | None:
    try:
        fields = _service_fields(form)
    except RuleError as exc:
        form.refused(exc)
        return None
    return attempt(form, action, *args, fields)


def _service_form_values() -> dict[str, Any]:
    names = (*SERVICE_FORM, "priority_kind", "priority_every")
    values: dict[str, Any] = form_values(request.form, *names)
    values.update({k: v for k, v in request.form.items() if k.startswith("h_")})
    return values


def _service_context(form: FormState, item: dict[str, Any] | None) -> dict[str, Any]:
    tenants = antre().run(config().tenants, include_inactive=item is not None)
    return {"form": form, "item": item, "weekdays": WEEKDAYS,
            "tenant_options": [(t["id"], t["name_id"]) for t in tenants]}


@bp.get("/services")
@admin_page("setup")
def services() -> Any:
    tenant_id = request.args.get("tenant", type=int)
    rows = antre().run(config().services, tenant_id=tenant_id)
    return render("admin/services.html", rows=rows, tenants=antre().run(config().tenants), tenant_id=tenant_id)


@bp.route("/services/new", methods=["GET", "POST"])
@admin_page("setup")
def service_new() -> Any:
    form = FormState(values={"tenant_id": request.args.get("tenant", ""), "standard_minutes": "10", "sort": "0",
                             **hours_fields(WORKDAY_HOURS), **priority_fields("strict")})
    if request.method == "POST":
        form.values = _service_form_values()
        change = _attempt_service(form, config().create_service, g.actor)
        if change is not None:
            return _saved(change, _("Layanan %(code)s %(name)s ditambahkan.", code=change.data["code"],
                                    name=change.data["name_id"]), "admin.services")
    return render("admin/service_form.html", 400 if form.errors else 200, **_service_context(form, None))


@bp.route("/services/<id:service_id>", methods=["GET", "POST"])
@admin_page("setup")
def service(service_id: int) -> Any:
    try:
        current = antre().run(config().service, service_id)
    except RuleError:
        return render("admin/not_found.html", 404)
    values = {k: "" if current[k] is None else current[k] for k in SERVICE_FORM}
    form = FormState(values={**values, **hours_fields(current["hours"]), **priority_fields(current["priority_rule"])})
    if request.method == "POST":
        form.values = _service_form_values()
        change = _attempt_service(form, config().update_service, g.actor, service_id)
        if change is not None:
            return _saved(change, _("Layanan disimpan."), "admin.services")
    return render("admin/service_form.html", 400 if form.errors else 200, **_service_context(form, current))


@bp.post("/services/<id:service_id>/active")
@admin_page("setup")
def service_active(service_id: int) -> Any:
    return _toggle(_("Layanan"), config().set_service_active, service_id, "admin.service", service_id=service_id)


@bp.post("/services/<id:service_id>/always-open")
@admin_page("setup")
def service_always_open(service_id: int) -> Any:
    """One click for "open around the clock" (the demo's hours), as an ordinary audited update."""
    try:
        change = antre().run(config().update_service, g.actor, service_id, {"hours": ALWAYS_OPEN})
    except RuleError as exc:
        flash(exc.message, "error")
    else:
        publish(change)
        flash(_("Layanan buka 24 jam setiap hari."), "ok")
    return redirect(url_for("admin.service", service_id=service_id), 303)


# ----------------------------------------------------------------- counters


def _counter_context(form: FormState, item: dict[str, Any] | None) -> dict[str, Any]:
    services_by_tenant: dict[str, list[dict[str, Any]]] = {}
    for s in antre().run(config().services):
        services_by_tenant.setdefault(s["tenant_name"], []).append(s)
    zones = sorted({c["zone"] for c in antre().run(config().counters) if c["zone"]})
    return {"form": form, "item": item, "services_by_tenant": services_by_tenant, "zones": zones}


def _counter_form_values() -> dict[str, Any]:
    values: dict[str, Any] = form_values(request.form, *COUNTER_FORM)
    values["service_ids"] = request.form.getlist("service_ids")
    return values


@bp.get("/counters")
@admin_page("setup")
def counters() -> Any:
    rows = antre().run(config().counters)
    names = {s["id"]: s["code"] for s in antre().run(config().services)}
    return render("admin/counters.html", rows=rows, service_codes=names)


@bp.route("/counters/new", methods=["GET", "POST"])
@admin_page("setup")
def counter_new() -> Any:
    form = FormState(values={"sort": "0", "service_ids": []})
    if request.method == "POST":
        form.values = _counter_form_values()
        change = attempt(form, config().create_counter, g.actor, form.values)
        if change is not None:
            return _saved(change, _("Loket %(name)s ditambahkan.", name=change.data["name"]), "admin.counters")
    return render("admin/counter_form.html", 400 if form.errors else 200, **_counter_context(form, None))


@bp.route("/counters/<id:counter_id>", methods=["GET", "POST"])
@admin_page("setup")
def counter(counter_id: int) -> Any:
    try:
        current = antre().run(config().counter, counter_id)
    except RuleError:
        return render("admin/not_found.html", 404)
    form = FormState(values={"name": current["name"], "zone": current["zone"], "sort": current["sort"],
                             "service_ids": [str(i) for i in current["service_ids"]]})
    if request.method == "POST":
        form.values = _counter_form_values()
        change = attempt(form, config().update_counter, g.actor, counter_id, form.values)
        if change is not None:
            return _saved(change, _("Loket disimpan."), "admin.counters")
    return render("admin/counter_form.html", 400 if form.errors else 200, **_counter_context(form, current))


@bp.post("/counters/<id:counter_id>/active")
@admin_page("setup")
def counter_active(counter_id: int) -> Any:
    return _toggle(_("Loket"), config().set_counter_active, counter_id, "admin.counter", counter_id=counter_id)
