"""The contract's report and survey endpoints (REST v1).

``POST /api/v1/tickets/{id}/survey`` is open to any token and session (a
counter tablet), AND to the ticket's own tracking page, which has no token: it
proves itself with the header ``X-Antre-Track: <track token of that ticket>``
(the secret in its address).  The header is only read when no
``Authorization`` header is sent; a wrong or foreign track token is 401, so it
tells nothing about which tickets exist.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import g, jsonify, request

from antre import reports as core
from antre import survey
from antre.rules import Invalid, NotFound
from reports import bp
from web.auth import current_principal, require
from web.context import antre
from web.errors import ApiError, json_body

TRACK_HEADER = "X-Antre-Track"
log = logging.getLogger("antre.reports")


def _read(fn: Any, *args: Any) -> Any:
    """Run ``fn(db, *args)`` on a read snapshot, off the event loop."""
    store = antre().store

    def read() -> Any:
        with store.read() as db:
            return fn(db, *args)

    return antre().run(read)


def _tenant_arg() -> int | None:
    raw = request.args.get("tenant_id")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**62:
        raise Invalid("invalid_tenant_id", "tenant_id harus bilangan bulat positif. "
                                           "(tenant_id must be a positive integer.)")
    return int(raw)


@bp.get("/api/v1/reports/summary")
@require("admin")
def summary() -> Any:
    period = core.parse_period(request.args.get("from"), request.args.get("to"))
    return jsonify(_read(core.summary, period))


@bp.get("/api/v1/reports/ikm")
@require("admin")
def ikm() -> Any:
    period = core.parse_period(request.args.get("from"), request.args.get("to"))
    tenant_id = _tenant_arg()

    def read(db: Any) -> dict[str, Any]:
        if tenant_id is not None and db.conn.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)).fetchone() \
                is None:
            raise NotFound("tenant_not_found", f"Instansi {tenant_id} tidak ditemukan. (Tenant not found.)")
        return core.ikm(db, period, tenant_id).as_json()

    body = _read(read)
    return jsonify({**body, "from": period.start.isoformat(), "to": period.end.isoformat(), "tenant_id": tenant_id})


@require("any")
def _authenticated() -> Any:
    """The bearer token or session of this request (401/403 otherwise; CSRF for a session)."""
    return g.actor


def _track_matches(ticket_id: int, track: str) -> bool:
    def read(db: Any) -> bool:
        row = db.conn.execute("SELECT track_token FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return row is not None and hmac.compare_digest(row[0].encode(), track.encode("utf-8", "replace"))

    return bool(_read(read))


@bp.post("/api/v1/tickets/<id:ticket_id>/survey")
def submit(ticket_id: int) -> Any:
    track = request.headers.get(TRACK_HEADER)
    if track is not None and not request.headers.get("Authorization"):
        if not _track_matches(ticket_id, track.strip()):
            raise ApiError(401, "invalid_track_token",
                           "Tautan pelacakan tidak cocok dengan nomor ini. (The tracking token does not match.)")
        channel, actor, device = "tracking", f"track:{ticket_id}", None
    else:
        who = _authenticated()
        principal = current_principal()
        channel = "api" if principal is not None and principal.kind == "token" else "tablet"
        actor, device = who.label, who.device
    body = json_body()
    scores = survey.validate_scores(body.get("scores"))
    comment = survey.clean_comment(body.get("comment"))
    app_antre = antre()
    now = app_antre.clock.now()

    def write() -> dict[str, Any]:
        return app_antre.store.run_write(
            lambda db: core.submit_survey(db, ticket_id, scores, comment, channel, actor=actor, device=device,
                                          now=now))

    created = app_antre.run(write)
    _tell_tablets(created)
    response = jsonify(created)
    response.status_code = 201
    return response


def _tell_tablets(created: dict[str, Any]) -> None:
    """A survey tablet showing this ticket can move on (``survey:done`` to its counter's room)."""
    counter_id = created.get("counter_id")
    if counter_id is None:
        return
    from web.push import socketio

    try:
        socketio.emit("survey:done", {"ticket_id": created["ticket_id"]}, to=f"counter:{counter_id}")
    except Exception:  # noqa: BLE001 - the tablet also polls
        log.debug("survey:done not sent", exc_info=True)


# ------------------------------------------------------------------- OpenAPI

DATE_PARAM = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
SECONDS = {"type": ["number", "null"], "minimum": 0}
NULLABLE_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def _date(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "schema": DATE_PARAM, "description": text}


def add_openapi() -> None:
    """Describe the three operations in ``/openapi.json``, exactly as they answer."""
    from api.openapi import SCHEMAS, add_operation, path_param

    if "ReportSummary" in SCHEMAS:
        return
    SCHEMAS["ReportSummary"] = {
        "type": "object",
        "required": ["services"],
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "services": {"type": "array", "items": {
                "type": "object",
                "required": ["service_id", "code", "issued", "served", "no_show", "wait_mean_s", "wait_p90_s",
                             "service_mean_s"],
                "properties": {
                    "service_id": {"type": "integer"},
                    "code": {"type": "string"},
                    "issued": {"type": "integer", "minimum": 0},
                    "served": {"type": "integer", "minimum": 0},
                    "no_show": {"type": "integer", "minimum": 0},
                    "wait_mean_s": {**SECONDS, "description": "Mean seconds from issue to the FIRST call of the "
                                    "tickets that were called; null when none was."},
                    "wait_p90_s": {**SECONDS, "description": "Nearest-rank 90th percentile of the same waits "
                                   "(the ceil(0.9 n)-th smallest); null when none."},
                    "service_mean_s": {**SECONDS, "description": "Mean seconds from the LAST call (a recall is a "
                                       "call) to served, of served tickets; null when none was served."},
                    "name": {"type": "string"},
                    "tenant_id": {"type": "integer"},
                    "cancelled": {"type": "integer", "minimum": 0},
                    "wait_median_s": SECONDS,
                    "service_median_s": SECONDS,
                    "service_p90_s": SECONDS,
                    "within_standard_rate": {**NULLABLE_RATE, "description": "Share (0-1) of served tickets whose "
                                             "service time was within the serving service's standard minutes."},
                },
            }},
        },
    }
    SCHEMAS["IkmReport"] = {
        "type": "object",
        "required": ["responses", "element_means", "ikm", "grade"],
        "properties": {
            "responses": {"type": "integer", "minimum": 0},
            "element_means": {"type": "array", "minItems": 9, "maxItems": 9,
                              "items": {"type": ["number", "null"], "minimum": 1, "maximum": 4},
                              "description": "Mean score (1-4, two decimals) of each of the nine PermenPANRB "
                                             "14/2017 elements, in the regulation's order; nine nulls without "
                                             "responses."},
            "ikm": {"type": ["number", "null"], "minimum": 25, "maximum": 100,
                    "description": "Converted index: 25 x sum of (element mean x 1/9), computed exactly and "
                                   "rounded half-up to two decimals; null without responses."},
            "grade": {"enum": ["A", "B", "C", "D", None],
                      "description": "A 88.31-100, B 76.61-88.30, C 65.00-76.60, D 25.00-64.99, looked up "
                                     "with the two-decimal ikm; null without responses."},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "tenant_id": {"type": ["integer", "null"]},
        },
    }
    SCHEMAS["SurveyResponse"] = {
        "type": "object",
        "required": ["id", "ticket_id", "number", "service_id", "tenant_id", "channel", "created_at"],
        "properties": {
            "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "number": {"type": "string"},
            "service_id": {"type": "integer"}, "tenant_id": {"type": "integer"},
            "counter_id": {"type": ["integer", "null"]},
            "channel": {"enum": list(survey.CHANNELS)}, "created_at": {"type": "string", "format": "date-time"},
        },
    }
    period_text = ("Dates are local dates of the MPP's time zone (Asia/Jakarta by default), both ends included. "
                   "400 `missing_date`, `invalid_date`, `invalid_range` (from after to) or `range_too_long` "
                   f"(more than {core.MAX_RANGE_DAYS} days).")
    add_operation(
        "/api/v1/reports/summary", "get", summary="Queue figures per service for a period", roles="admin",
        ok_schema={"$ref": "#/components/schemas/ReportSummary"},
        params=[_date("from", "First local date (YYYY-MM-DD)."), _date("to", "Last local date (YYYY-MM-DD).")],
        description="A ticket counts under the service it was issued for (also after a transfer); its wait runs "
                    "from issue to its first call, its service time from its last call (a recall is a call) to "
                    "served. Every existing service is listed; means and percentiles with no data are null, not "
                    "0. " + period_text,
    )
    add_operation(
        "/api/v1/reports/ikm", "get", summary="SKM index (IKM, PermenPANRB 14/2017) for a period", roles="admin",
        ok_schema={"$ref": "#/components/schemas/IkmReport"}, errors=(404,),
        params=[_date("from", "First local date (YYYY-MM-DD) of the served tickets."),
                _date("to", "Last local date (YYYY-MM-DD)."),
                {"name": "tenant_id", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 2**62 - 1},
                 "description": "Only this tenant's services (404 `tenant_not_found` for an unknown one)."}],
        description="IKM = sum over the nine elements of (mean score x 1/9); converted = IKM x 25. A response "
                    "counts under its ticket's origin tenant and the local date the ticket was issued. "
                    + period_text,
    )
    add_operation(
        "/api/v1/tickets/{id}/survey", "post", summary="Answer the SKM survey of a served ticket",
        roles="any token or staff/device session, or the ticket's tracking page (header X-Antre-Track)", ok=201,
        ok_schema={"$ref": "#/components/schemas/SurveyResponse"}, errors=(409,),
        params=[path_param("id"),
                {"name": TRACK_HEADER, "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "The track token of this ticket (the secret of its tracking page); read only "
                                "when no Authorization header is sent. A wrong one is 401 `invalid_track_token`."}],
        body={"type": "object", "required": ["scores"], "properties": {
            "scores": {"type": "array", "minItems": 9, "maxItems": 9,
                       "items": {"type": "integer", "minimum": 1, "maximum": 4},
                       "description": "One score per element, in the order of PermenPANRB 14/2017: requirements; "
                                      "systems, mechanisms and procedures; completion time; cost/fee; product "
                                      "specification; staff competence; staff conduct; handling of complaints; "
                                      "facilities. 1 = worst, 4 = best."},
            "comment": {"type": ["string", "null"], "maxLength": survey.COMMENT_MAX,
                        "description": "Optional suggestion; control characters are dropped."}}},
        description="One response per ticket, only for a served ticket: 404 `ticket_not_found`; 409 `not_served` "
                    "or `survey_exists`; 400 `invalid_scores`, `invalid_comment`, `comment_too_long`.",
    )
