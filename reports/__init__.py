"""The reports part: queue reports, the SKM survey and its index (IKM).

* API (contract): ``POST /api/v1/tickets/{id}/survey``,
  ``GET /api/v1/reports/summary``, ``GET /api/v1/reports/ikm``
  (:mod:`reports.api`), described in ``/openapi.json``.
* Admin pages (admin and supervisor sessions): ``/admin/reports`` (figures,
  charts, CSV of every table) and ``/admin/ikm`` (SKM index, survey CSV)
  (:mod:`reports.pages`).
* The counter tablet: ``/survey/<counter_id>`` offers the survey for the
  ticket last served at that counter (:mod:`reports.tablet`).

The figures themselves are computed in :mod:`antre.reports` and
:mod:`antre.survey` (plain Python and SQL).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request, session

from web.i18n import LANGS

bp = Blueprint("reports", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/reports")


@bp.before_request
def remember_language() -> None:
    """``?lang=en`` on a report page switches the admin's language for the session (as the admin does)."""
    lang = request.args.get("lang")
    if lang in LANGS and request.path.startswith("/admin/"):
        session["lang"] = lang

from reports import api, pages, tablet  # noqa: E402, F401 - routes


def init_app(app: Flask, app_antre: Any) -> None:
    api.add_openapi()
