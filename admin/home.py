"""The overview: the live queue of the whole MPP (admin and supervisors)."""

from __future__ import annotations

from typing import Any

from admin import bp
from admin.access import admin_page, render
from web.context import antre


@bp.get("/")
@admin_page("overview")
def home() -> Any:
    state = antre().run(antre().queue.display_state, None)
    tenants = {t["id"]: t for t in antre().run(antre().queue.tenants)}
    totals = {
        "waiting": sum(s["waiting"] for s in state["services"]),
        "services_open": sum(1 for s in state["services"] if s["open"]),
        "counters_open": sum(1 for c in state["counters"] if c["status"] == "open"),
        "counters": len(state["counters"]),
    }
    return render("admin/home.html", state=state, tenants=tenants, totals=totals)
