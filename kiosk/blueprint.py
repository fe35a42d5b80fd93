"""The kiosk part's blueprint: the page at ``/kiosk`` and the REST routes of kiosk printing."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/kiosk")
