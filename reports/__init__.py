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

from flask import Blueprint, Flask

bp = Blueprint("reports", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/reports")

from reports import api, pages, tablet  # noqa: E402, F401 - routes


def init_app(app: Flask, app_antre: Any) -> None:
    api.add_openapi()
