"""REST routes of kiosk printing, and their OpenAPI description.

* ``GET /api/v1/tickets/{id}/print``: the print job of a ticket (the kiosk page
  polls it when no ``print:result`` came over Socket.IO).
* ``GET /api/v1/print-agent/jobs`` and ``POST /api/v1/print-agent/jobs/{id}/result``:
  the print agent on a kiosk's own Pi fetches its kiosk's jobs (bytes in
  base64) and reports each result, acknowledged by job id.
* ``GET /api/v1/print-jobs``, ``GET|PUT /api/v1/kiosks/{id}/printer``: for admins.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from flask import g, jsonify, request

from antre.printjobs import OUTCOMES, PAPER_SIZES, PRINTER_STATUSES, STATES, validate_printer_uri
from antre.rules import Invalid, NotFound
from api.openapi import SCHEMAS, add_operation, path_param, query_param
from kiosk.blueprint import bp
from kiosk.print_service import KioskPrinting, public_job
from web.auth import current_principal, require
from web.context import antre
from web.errors import ApiError, json_body

MAX_DETAIL = 500
_FAULT = "(paper_out|paper_low|offline|slow|silent|disconnected|none)"
_PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"  # 1-65535
_USB_ID = "([1-9A-Fa-f][0-9A-Fa-f]{3}|0[1-9A-Fa-f][0-9A-Fa-f]{2}|00[1-9A-Fa-f][0-9A-Fa-f]|000[1-9A-Fa-f])"  # not 0000
#: what this API accepts as a kiosk's printer (the printing package checks it again); exact, so that
#: the OpenAPI document says precisely what is accepted
PRINTER_URI_PATTERN = (
    rf"^(|usb:{_USB_ID}:{_USB_ID}"  # "" (like null): the server's default printer
    rf"|tcp://[A-Za-z0-9][A-Za-z0-9.-]{{0,62}}(:{_PORT})?"
    r"|serial:/dev/[A-Za-z0-9_]{1,32}(\?baudrate=(9600|19200|38400|57600|115200))?"
    r"|cups:[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,62}"
    r"|file:/[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,200}"
    rf"|virtual(:[A-Za-z0-9_.-]{{1,64}})?(\?fault={_FAULT}(,{_FAULT}){{0,3}})?)$"
)


def printing_service() -> KioskPrinting:
    return antre().extras["kiosk_printing"]


def _agent_principal() -> Any:
    principal = current_principal()
    if principal is None or principal.kind != "token":
        raise ApiError(403, "agent_token_required",
                       "Agen cetak memakai token kios (Bearer). (The print agent uses the kiosk's bearer token.)")
    return principal


def _limit(default: int, high: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("invalid_limit", "limit harus bilangan bulat. (limit must be an integer.)") from None
    if not 1 <= value <= high:
        raise Invalid("invalid_limit", f"limit harus antara 1 dan {high}. (limit out of range.)")
    return value


# ----------------------------------------------------------------- the kiosk


@bp.get("/api/v1/tickets/<id:ticket_id>/print")
@require("kiosk", "admin")
def ticket_print(ticket_id: int) -> Any:
    job = antre().run(printing_service().spool.by_ticket, ticket_id)
    principal = current_principal()
    if job is None or (principal is not None and principal.role == "kiosk" and job["kiosk_token_id"] != principal.id):
        raise NotFound("print_job_not_found", "Tiket ini tidak punya tugas cetak. (No print job for this ticket.)")
    return jsonify(public_job(job))


# ----------------------------------------------------------- the print agent


@bp.get("/api/v1/print-agent/jobs")
@require("kiosk")
def agent_jobs() -> Any:
    principal = _agent_principal()
    status = request.args.get("printer_status")
    if status is not None and status not in PRINTER_STATUSES:
        raise Invalid("invalid_printer_status", "printer_status tidak dikenal. (Unknown printer_status.)")
    limit = _limit(20, 50)
    spool = printing_service().spool
    antre().run(spool.agent_seen, principal.id, status)
    jobs = antre().run(spool.agent_jobs, principal.id, limit)
    return jsonify({
        "kiosk": {"id": principal.id, "name": principal.name},
        "jobs": [{
            "id": j["id"], "ticket_id": j["ticket_id"], "number": j["number"], "state": j["state"],
            "attempts": j["attempts"], "created_at": j["created_at"],
            "data_base64": base64.b64encode(j["data"]).decode("ascii"),
        } for j in jobs],
    })


@bp.post("/api/v1/print-agent/jobs/<id:job_id>/result")
@require("kiosk")
def agent_result(job_id: int) -> Any:
    principal = _agent_principal()
    body = json_body()
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise Invalid("invalid_outcome", f"outcome harus salah satu dari {', '.join(OUTCOMES)}.")
    detail = body.get("detail", "")
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL:
        raise Invalid("invalid_detail", f"detail harus teks (maks. {MAX_DETAIL}). (detail must be short text.)")
    sent = body.get("sent", outcome == "printed")
    if not isinstance(sent, bool):
        raise Invalid("invalid_sent", "sent harus true/false. (sent must be a boolean.)")
    status = body.get("printer_status")
    if status is not None and status not in PRINTER_STATUSES:
        raise Invalid("invalid_printer_status", "printer_status tidak dikenal. (Unknown printer_status.)")
    service = printing_service()
    job = antre().run(_own_agent_job, service, principal.id, job_id)
    if not job["via_agent"]:
        raise ApiError(409, "not_agent_job", "Tugas ini dicetak oleh server. (This job is printed by the server.)")
    change = service.agent_result(principal.id, job_id, outcome, detail, sent, status, g.actor.label)
    return jsonify({"job": public_job(change.job), "changed": change.changed})


def _own_agent_job(service: KioskPrinting, token_id: int, job_id: int) -> dict[str, Any]:
    try:
        job = service.spool.get(job_id)
    except NotFound:
        job = None
    if job is None or job["kiosk_token_id"] != token_id:
        raise NotFound("print_job_not_found", "Tugas cetak tidak ditemukan. (Print job not found.)")
    return job


# -------------------------------------------------------------------- admins


@bp.get("/api/v1/print-jobs")
@require("admin")
def print_jobs() -> Any:
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise Invalid("invalid_state", f"state harus salah satu dari {', '.join(STATES)}.")
    limit = _limit(100, 1000)
    spool = printing_service().spool
    jobs = antre().run(spool.list_jobs, state, limit)
    return jsonify({"jobs": [public_job(j) for j in jobs], "counts": antre().run(spool.counts)})


@bp.route("/api/v1/kiosks/<id:token_id>/printer", methods=["GET", "PUT"])
@require("admin")
def kiosk_printer(token_id: int) -> Any:
    """One rule for both methods: an id out of range is then a 404 for either (not a 405)."""
    spool = printing_service().spool
    if request.method == "GET":
        antre().run(_kiosk_token, antre().store, token_id)
        return jsonify(antre().run(spool.kiosk_printer, token_id).as_dict())
    body = json_body()
    uri = validate_printer_uri(body.get("printer_uri"))
    via_agent = body.get("print_via_agent", False)
    paper_mm = body.get("paper_mm")
    if uri is not None:
        problem = None if re.match(PRINTER_URI_PATTERN, uri) else "scheme or form not supported here"
        problem = problem or _printer_uri_problem(uri)
        if problem:
            raise Invalid("invalid_printer_uri", f"Alamat printer tidak sah: {problem} (Invalid printer URI.)")
    kiosk = antre().run(spool.set_kiosk_printer, token_id, printer_uri=uri, via_agent=via_agent, paper_mm=paper_mm,
                        actor=g.actor.label)
    return jsonify(kiosk.as_dict())


def _kiosk_token(store: Any, token_id: int) -> None:
    with store.read() as db:
        row = db.conn.execute("SELECT role FROM tokens WHERE id = ? AND revoked_at IS NULL", (token_id,)).fetchone()
    if row is None or row["role"] != "kiosk":
        raise NotFound("kiosk_not_found", "Token kios tidak ditemukan. (Kiosk token not found.)")


def _printer_uri_problem(uri: str) -> str | None:
    from printing.backends import open_printer

    try:
        open_printer(uri).close()  # checks the URI only; the device is opened lazily
    except ValueError as exc:
        return str(exc)[:200]
    except Exception as exc:  # noqa: BLE001 - any refusal of the backend is a bad URI here
        return (str(exc) or type(exc).__name__)[:200]
    return None


# ------------------------------------------------------------------- OpenAPI

NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
SCHEMAS["PrintJob"] = {
    "type": "object",
    "required": ["id", "ticket_id", "number", "kiosk_token_id", "kiosk_name", "printer_uri", "via_agent", "state",
                 "attempts", "last_outcome", "last_status", "last_detail", "created_at", "updated_at", "sent_at",
                 "next_attempt_at", "finished_at"],
    "properties": {
        "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "number": {"type": "string"},
        "kiosk_token_id": {"type": ["integer", "null"]}, "kiosk_name": {"type": "string"},
        "printer_uri": {"type": ["string", "null"], "description": "null when the kiosk's print agent prints it"},
        "via_agent": {"type": "boolean"},
        "state": {"enum": list(STATES)},
        "attempts": {"type": "integer", "minimum": 0},
        "last_outcome": {"enum": [*OUTCOMES, None]},
        "last_status": {"enum": [*PRINTER_STATUSES, None]},
        "last_detail": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "sent_at": {**NULL_DATETIME, "description": "when the bytes were handed to the printer (never resent)"},
        "next_attempt_at": NULL_DATETIME,
        "finished_at": NULL_DATETIME,
    },
}
SCHEMAS["KioskPrinter"] = {
    "type": "object",
    "required": ["token_id", "printer_uri", "via_agent", "paper_mm", "agent_seen_at", "agent_printer_status"],
    "properties": {
        "token_id": {"type": ["integer", "null"]},
        "printer_uri": {"type": ["string", "null"], "description": "null: the server's default printer"},
        "via_agent": {"type": "boolean"},
        "paper_mm": {"enum": [*PAPER_SIZES, None]},
        "agent_seen_at": NULL_DATETIME,
        "agent_printer_status": {"enum": [*PRINTER_STATUSES, None]},
    },
}
_REF_JOB = {"$ref": "#/components/schemas/PrintJob"}

add_operation("/api/v1/tickets/{id}/print", "get", summary="The print job of a ticket", roles="kiosk, admin",
              ok_schema=_REF_JOB, params=[path_param("id")],
              description="404 `print_job_not_found` when the ticket has none (or, for a kiosk, not its own).")
add_operation(
    "/api/v1/print-agent/jobs", "get", summary="The jobs a kiosk's print agent should print now, in order",
    roles="kiosk (bearer token)",
    params=[query_param("printer_status", {"enum": list(PRINTER_STATUSES)}, "The agent's printer, as it reads it."),
            query_param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20})],
    description="Each call also records that the agent is present. A job waiting for a retry holds back the "
                "ones after it. `data_base64` is the ticket's ESC/POS bytes.",
    ok_schema={"type": "object", "required": ["kiosk", "jobs"], "properties": {
        "kiosk": {"type": "object", "required": ["id", "name"],
                  "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "jobs": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "ticket_id", "number", "state", "attempts", "created_at", "data_base64"],
            "properties": {"id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "number": {"type": "string"},
                           "state": {"enum": ["queued", "printing", "retrying"]},
                           "attempts": {"type": "integer", "minimum": 0},
                           "created_at": {"type": "string", "format": "date-time"},
                           "data_base64": {"type": "string", "contentEncoding": "base64"}}}},
    }},
)
add_operation(
    "/api/v1/print-agent/jobs/{id}/result", "post", summary="Report the result of printing one job",
    roles="kiosk (bearer token)", params=[path_param("id")], errors=(409,),
    description="Idempotent: a report for a job that already ended changes nothing (`changed` false). "
                "`sent`: the bytes reached the printer (it is then never sent again). 409 `not_agent_job`.",
    body={"type": "object", "required": ["outcome"], "properties": {
        "outcome": {"enum": list(OUTCOMES)},
        "detail": {"type": "string", "maxLength": MAX_DETAIL},
        "sent": {"type": "boolean"},
        "printer_status": {"enum": list(PRINTER_STATUSES)}}},
    ok_schema={"type": "object", "required": ["job", "changed"],
               "properties": {"job": _REF_JOB, "changed": {"type": "boolean"}}},
)
add_operation(
    "/api/v1/print-jobs", "get", summary="Recent print jobs, newest first", roles="admin",
    params=[query_param("state", {"enum": list(STATES)}),
            query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})],
    ok_schema={"type": "object", "required": ["jobs", "counts"], "properties": {
        "jobs": {"type": "array", "items": _REF_JOB},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}},
)
add_operation("/api/v1/kiosks/{id}/printer", "get", summary="Where a kiosk prints", roles="admin",
              params=[path_param("id")], ok_schema={"$ref": "#/components/schemas/KioskPrinter"},
              description="`id` is the kiosk's token id. 404 `kiosk_not_found`.")
add_operation(
    "/api/v1/kiosks/{id}/printer", "put", summary="Set where a kiosk prints", roles="admin",
    params=[path_param("id")], ok_schema={"$ref": "#/components/schemas/KioskPrinter"},
    description="Writes the `printers` setting: a printer URI (null: the server's default) or the kiosk's "
                "print agent (`print_via_agent`), and the kiosk's paper width.",
    body={"type": "object", "properties": {
        "printer_uri": {"type": ["string", "null"], "maxLength": 300, "pattern": PRINTER_URI_PATTERN,
                        "examples": ["tcp://192.168.1.50:9100", "usb:04b8:0e15", "file:/var/lib/antre/prints"]},
        "print_via_agent": {"type": "boolean", "default": False},
        "paper_mm": {"enum": [*PAPER_SIZES, None]}}},
)
