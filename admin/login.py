"""Staff log-in and log-out for the admin pages (``/admin/login``).

The counter screen has its own log-in form; both check passwords through
:func:`antre.staff.log_in` (the rate limit per address and per username, kept
in the database, in front of the account lock-out) and put the same staff
session (:func:`web.auth.login_session`) in the cookie, so one log-in serves both.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _

from admin import bp
from admin.access import STAFF_ROLES, csrf_ok, render, staff_principal
from admin.forms import FormState
from antre import staff
from antre.rules import RuleError
from web.auth import login_session
from web.context import antre


def safe_next(target: str | None) -> str | None:
    """Only an admin page of this server may follow a log-in (no open redirect)."""
    if not target or not target.startswith("/admin") or target.startswith("//") or "\\" in target:
        return None
    if target.startswith("/admin/login") or target.startswith("/admin/logout"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next"))
    principal = staff_principal()
    form = FormState()
    if request.method == "GET":
        if principal is not None and principal.role in STAFF_ROLES:
            return redirect(target or url_for("admin.home"))
        return render("admin/login.html", form=form, next=target)
    username = request.form.get("username", "")
    form.values = {"username": username}
    status = 400
    if not csrf_ok():
        form.errors["form"] = _("Formulir kedaluwarsa; silakan coba lagi.")
    elif not username.strip() or not request.form.get("password"):
        form.errors["username" if not username.strip() else "password"] = _(
            "Isi nama pengguna dan kata sandi.")
    else:
        try:
            user = antre().run(staff.log_in, antre().store, username[:64], request.form.get("password", ""),
                               request.remote_addr)
        except staff.TooManyAttempts as exc:
            form.errors["form"] = exc.message
            status = 429
        except RuleError as exc:
            form.errors["form"] = exc.message
            status = 403 if exc.code == "account_locked" else 401
        else:
            lang = session.get("lang")
            login_session(user)
            if lang:
                session["lang"] = lang
            if user["role"] not in STAFF_ROLES:
                return redirect("/counter", 303)
            return redirect(target or url_for("admin.home"), 303)
    return render("admin/login.html", status, form=form, next=target)


@bp.post("/logout")
def logout() -> Any:
    if staff_principal() is not None and not csrf_ok():
        return redirect(url_for("admin.home"), 303)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Anda sudah keluar."), "ok")
    return redirect(url_for("admin.login"), 303)
