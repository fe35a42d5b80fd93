"""Devices: pairing a kiosk or display by the code on its screen, tokens, revocation (admin only)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from admin import bp
from admin.access import admin_page, attempt, config, publish, render
from admin.forms import FormState, form_values
from antre import auth as core_auth
from antre.config import PAIRABLE_ROLES
from antre.rules import RuleError
from web.context import antre


def _page(status: int = 200, pair_form: FormState | None = None, token_form: FormState | None = None,
          new_token: dict[str, Any] | None = None) -> Any:
    tokens = antre().run(config().tokens)
    tokens.sort(key=lambda t: (t["revoked_at"] is not None, t["role"], t["name"].lower()))
    return render("admin/devices.html", status, tokens=tokens,
                  pair_form=pair_form or FormState(values={"role": "kiosk"}, prefix="pair-"),
                  token_form=token_form or FormState(values={"role": "feed"}, prefix="token-"),
                  pair_roles=PAIRABLE_ROLES, token_roles=core_auth.TOKEN_ROLES, new_token=new_token)


@bp.get("/devices")
@admin_page("devices")
def devices() -> Any:
    return _page()


@bp.post("/devices/pair")
@admin_page("devices")
def device_pair() -> Any:
    form = FormState(values=form_values(request.form, "code", "role", "name"), prefix="pair-")
    change = attempt(form, config().pair_with_code, g.actor, form.values["code"], form.values["role"],
                     form.values["name"])
    if change is None:
        return _page(400, pair_form=form)
    flash(_("%(name)s dipasangkan sebagai %(role)s. Layar perangkat itu memuat ulang sendiri dalam beberapa detik.",
            name=change.data["name"], role=change.data["role"]), "ok")
    return redirect(url_for("admin.devices"), 303)


@bp.post("/devices/tokens")
@admin_page("devices")
def token_create() -> Any:
    form = FormState(values=form_values(request.form, "role", "name"), prefix="token-")
    try:
        change, token = antre().run(config().create_token, g.actor, form.values["role"], form.values["name"])
    except RuleError as exc:
        form.refused(exc)
        return _page(400, token_form=form)
    publish(change)
    # Shown once, in this response only: never put in a flash message (the cookie is not secret).
    return _page(201, new_token={"token": token, **change.data})


@bp.post("/devices/<id:token_id>/revoke")
@admin_page("devices")
def token_revoke(token_id: int) -> Any:
    try:
        change = antre().run(config().revoke_token, g.actor, token_id)
    except RuleError as exc:
        flash(exc.message, "error")
    else:
        publish(change)
        if change.changed:
            flash(_("Token %(name)s dicabut; perangkatnya berhenti saat itu juga.", name=change.data["name"]), "ok")
    return redirect(url_for("admin.devices"), 303)
