"""JSON errors for the API: ``{"error": {"code", "message"}}`` with a 4xx status.

No input of any shape may yield a 5xx: every refusal of the queue rules is a
:class:`~antre.rules.RuleError` with its own status, and HTTP-level problems
(unknown path, wrong method, bad JSON, oversized body) get theirs here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Request, jsonify, request
from werkzeug.exceptions import HTTPException

from antre.rules import Invalid, RuleError

log = logging.getLogger("antre")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ApiError(RuleError):
    """An HTTP-level refusal raised by the web layer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, message)
        self.status = status


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="antre"'
    return response


def wants_json(req: Request) -> bool:
    """JSON errors for the API and for every path the OpenAPI document describes."""
    return req.path.startswith("/api/") or req.is_json or _documented(req.path)


def _documented(path: str) -> bool:
    from api.openapi import PATHS

    global _documented_re, _documented_count
    if _documented_re is None or _documented_count != len(PATHS):
        patterns = [re.escape(p).replace(r"\{", "{").replace(r"\}", "}") for p in PATHS]
        patterns = [re.sub(r"\{[^}]*\}", "[^/]+", p) for p in patterns]
        _documented_re = re.compile("^(?:" + "|".join(patterns or ["$^"]) + r"|/openapi\.json)$")
        _documented_count = len(PATHS)
    return bool(_documented_re.match(path))


_documented_re: re.Pattern[str] | None = None
_documented_count = -1


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, or a clear 400/415."""
    if not request.data:
        if required:
            raise Invalid("invalid_json", "Badan permintaan harus objek JSON. (The body must be a JSON object.)")
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "Gunakan Content-Type: application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("invalid_json", "Badan permintaan harus objek JSON. (The body must be a JSON object.)")
    return data


def register(app: Flask) -> None:
    @app.errorhandler(RuleError)
    def rule_error(exc: RuleError) -> Any:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if not wants_json(request):
            return exc
        code = HTTP_CODES.get(status, "error")
        response = error_response(status, code, exc.description or code)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Terjadi kesalahan pada server. (Internal error.)")
