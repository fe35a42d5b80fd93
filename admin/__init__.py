"""The admin part: ``/admin`` pages for the MPP's admin and supervisors.

Configuration (tenants, services, counters, staff accounts, devices, settings,
voice, running text, webhooks) and the audit log, over :mod:`antre.config`.
Device pages that are not paired get a short code from ``/pair`` (see
:mod:`admin.pairing`), which an admin types on ``/admin/devices``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request, session

from web.i18n import LANGS

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
               static_url_path="/static")


@bp.before_request
def remember_language() -> None:
    """``?lang=en`` switches the admin's language for the rest of the session."""
    lang = request.args.get("lang")
    if lang in LANGS:
        session["lang"] = lang


@bp.after_request
def no_store(response: Any) -> Any:
    """Admin pages hold tokens shown once and staff data: never kept in a browser's cache."""
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


from admin import audit, devices, home, login, settings, setup, staff  # noqa: E402, F401 - routes
from admin.pairing import pair_bp  # noqa: E402


def init_app(app: Flask, app_antre: Any) -> None:
    from antre.config import refuse_inactive_counter

    app.register_blueprint(pair_bp)
    app_antre.queue.counter_guards.append(refuse_inactive_counter)
