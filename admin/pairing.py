"""Pairing a device page by a short code, the device's side (no credentials).

1. A device page that is not paired (``unpaired.html``) asks ``POST /pair/code``
   with the roles its page accepts.  The answer is a 6-digit code to show on
   its screen, valid 10 minutes; the browser's session keeps the claim.
2. An admin types the code on ``/admin/devices`` with a role and a name
   (:meth:`antre.config.Config.pair_with_code`), which makes a token.
3. The page polls ``GET /pair/status`` every few seconds; once paired, its
   session gets the token's id (as ``?token=`` pairing does) and it reloads.

Both endpoints are rate limited per client address, and ``POST /pair/code``
needs the ``X-Antre-Pairing`` header, which a cross-site form cannot send.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, session

from admin.access import RateLimiter, config
from antre.config import PAIR_CODE_SECONDS
from antre.rules import Invalid, RuleError
from web.auth import csrf_token
from web.context import antre
from web.errors import ApiError, json_body

pair_bp = Blueprint("pairing", __name__, url_prefix="/pair")


@pair_bp.after_request
def no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response

POLL_SECONDS = 3
#: new codes per client address (a page reload reuses its code while it is valid)
code_limiter = RateLimiter(limit=10, window=600)
#: status polls per client address (one every 3 s is 20 a minute)
status_limiter = RateLimiter(limit=60, window=60)


def _client() -> str:
    return request.remote_addr or "?"


def _too_many() -> ApiError:
    return ApiError(429, "too_many_requests", "Terlalu banyak permintaan; tunggu sebentar lalu coba lagi. "
                                              "(Too many requests; wait a moment.)")


def _answer(code: str, expires_at: str) -> Any:
    return jsonify({"code": code, "expires_at": expires_at, "ttl_seconds": PAIR_CODE_SECONDS,
                    "poll_seconds": POLL_SECONDS})


@pair_bp.post("/code")
def pair_code() -> Any:
    if request.headers.get("X-Antre-Pairing") != "1":
        raise ApiError(403, "forbidden", "Permintaan harus berasal dari halaman perangkat. (Use the device page.)")
    body = json_body()
    roles = body.get("roles")
    held = session.get("pairing")
    now = antre().clock.now().isoformat()
    if isinstance(held, dict) and held.get("roles") == roles and str(held.get("expires_at", "")) > now:
        # A reload shows the same code (if it was paired meanwhile, the next poll collects it).
        return _answer(held["code"], held["expires_at"])
    if not isinstance(roles, list):
        raise Invalid("invalid_roles", "roles harus daftar peran halaman. (roles must be a list.)")
    if not code_limiter.allow(_client()):
        raise _too_many()
    try:
        issued = antre().run(config().start_pairing, roles, _client())
    except RuleError as exc:
        if exc.code == "too_many_codes":
            raise ApiError(429, exc.code, exc.message) from None
        raise
    session["pairing"] = {"code": issued["code"], "claim": issued["claim"], "expires_at": issued["expires_at"],
                          "roles": roles}
    return _answer(issued["code"], issued["expires_at"])


@pair_bp.get("/status")
def pair_status() -> Any:
    if not status_limiter.allow(_client()):
        raise _too_many()
    held = session.get("pairing")
    if not isinstance(held, dict):
        return jsonify({"state": "unknown"})
    state = antre().run(config().collect_pairing, held.get("claim"))
    if state["state"] == "paired":
        # As pairing by ?token= does: this browser now acts for the token.
        session.clear()
        session.permanent = True
        session["device_token_id"] = state["token_id"]
        csrf_token()
        return jsonify({"state": "paired", "role": state["role"], "name": state["name"]})
    if state["state"] != "waiting":
        session.pop("pairing", None)
    return jsonify({"state": state["state"]})
