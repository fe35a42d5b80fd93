"""Flask glue shared by the blueprints: the app context, auth, errors, push."""

from flask import Blueprint

#: shared templates (base.html, unpaired.html) and static files (antre.css, antre.js)
bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static/web", template_folder="templates")
