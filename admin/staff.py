"""Staff accounts: create, role and agency, password reset, deactivate, unlock (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from admin import bp
from admin.access import admin_page, attempt, config, publish, render
from admin.forms import FormState, confirmed_password, form_values
from antre import auth as core_auth
from antre.rules import RuleError
from web.context import antre

USER_FORM = ("username", "display_name", "role", "tenant_id")
EDIT_FORM = ("display_name", "role", "tenant_id")


def _context(form: FormState, **extra: Any) -> dict[str, Any]:
    tenants = antre().run(config().tenants)
    item = extra.get("item")
    if item and item.get("locked_until"):
        local = antre().clock.local(datetime.fromisoformat(item["locked_until"]))
        extra["locked_until_local"] = local.strftime("%d-%m-%Y %H:%M")
    return {"form": form, "tenant_options": [(t["id"], t["name_id"]) for t in tenants], **extra}


@bp.get("/users")
@admin_page("accounts")
def users() -> Any:
    return render("admin/users.html", rows=antre().run(config().users), now=antre().clock.now().isoformat())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_page("accounts")
def user_new() -> Any:
    form = FormState(values={"role": "counter"})
    if request.method == "POST":
        form.values = form_values(request.form, *USER_FORM)
        try:
            password = confirmed_password(request.form)
        except RuleError as exc:
            form.refused(exc)
        else:
            change = attempt(form, config().create_user, g.actor, {**form.values, "password": password})
            if change is not None:
                flash(_("Akun %(username)s dibuat. Sampaikan kata sandinya langsung kepada orangnya.",
                        username=change.data["username"]), "ok")
                return redirect(url_for("admin.users"), 303)
    return render("admin/user_new.html", 400 if form.errors else 200, **_context(form))


def _load(user_id: int) -> dict[str, Any] | None:
    try:
        return antre().run(config().user, user_id)
    except RuleError:
        return None


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@admin_page("accounts")
def user(user_id: int) -> Any:
    current = _load(user_id)
    if current is None:
        return render("admin/not_found.html", 404)
    form = FormState(values={k: "" if current[k] is None else current[k] for k in EDIT_FORM})
    password_form = FormState()
    if request.method == "POST":
        form.values = form_values(request.form, *EDIT_FORM)
        fields = dict(form.values)
        if fields.get("role") != "counter":
            fields["tenant_id"] = ""
        change = attempt(form, config().update_user, g.actor, user_id, fields)
        if change is not None:
            flash(_("Akun disimpan.") if change.changed else _("Tidak ada perubahan."), "ok")
            return redirect(url_for("admin.user", user_id=user_id), 303)
    return render("admin/user_edit.html", 400 if form.errors else 200,
                  **_context(form, item=current, password_form=password_form, self_id=g.staff.id))


@bp.post("/users/<id:user_id>/password")
@admin_page("accounts")
def user_password(user_id: int) -> Any:
    current = _load(user_id)
    if current is None:
        return render("admin/not_found.html", 404)
    password_form = FormState()
    try:
        password = confirmed_password(request.form)
    except RuleError as exc:
        password_form.refused(exc)
    else:
        change = attempt(password_form, config().reset_password, g.actor, user_id, password)
        if change is not None:
            if user_id == g.staff.id:  # one's own reset ends one's other sessions, not this one
                session["epoch"] = antre().run(core_auth.get_user, antre().store, user_id)["session_epoch"]
            flash(_("Kata sandi %(username)s diganti. Sampaikan langsung kepada orangnya.",
                    username=current["username"]), "ok")
            return redirect(url_for("admin.user", user_id=user_id), 303)
    form = FormState(values={k: "" if current[k] is None else current[k] for k in EDIT_FORM})
    return render("admin/user_edit.html", 400,
                  **_context(form, item=current, password_form=password_form, self_id=g.staff.id))


@bp.post("/users/<id:user_id>/active")
@admin_page("accounts")
def user_active(user_id: int) -> Any:
    active = request.form.get("active") == "1"
    try:
        change = antre().run(config().set_user_active, g.actor, user_id, active)
    except RuleError as exc:
        flash(exc.message, "error")
    else:
        publish(change)
        if change.changed:
            flash(_("Akun diaktifkan.") if active else _("Akun dinonaktifkan; sesinya berakhir saat itu juga."), "ok")
    return redirect(url_for("admin.user", user_id=user_id), 303)


@bp.post("/users/<id:user_id>/unlock")
@admin_page("accounts")
def user_unlock(user_id: int) -> Any:
    try:
        change = antre().run(config().unlock_user, g.actor, user_id)
    except RuleError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Kunci akun dibuka.") if change.changed else _("Akun ini tidak terkunci."), "ok")
    return redirect(url_for("admin.user", user_id=user_id), 303)
