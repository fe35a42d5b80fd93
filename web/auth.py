"""Who is asking: bearer tokens, paired device browsers and staff sessions.

* ``Authorization: Bearer TOKEN``: devices and integrators.  Not ambient, so
  no CSRF check is needed.
* A paired browser (a device page opened once with ``?token=``) and a staff
  log-in live in the signed session cookie (HttpOnly, SameSite=Lax).  Because
  a browser sends that cookie by itself, every state-changing request made on
  its strength must carry the session's CSRF token in ``X-CSRF-Token`` (or a
  ``csrf_token`` form field).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import g, redirect, request, session

from antre import auth as core_auth
from antre.queue import Actor
from web.context import antre
from web.errors import ApiError

#: which principal roles each API role name admits
ROLE_ALIASES = {
    "admin": {"admin"},
    "supervisor": {"admin", "supervisor"},
    "counter": {"counter", "supervisor", "admin"},
    "kiosk": {"kiosk"},
    "display": {"display"},
    "feed": {"feed"},
}
STAFF_SESSION_HOURS = 12
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_TOKEN_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    kind: str  # "token", "device" (paired browser) or "user"
    role: str
    name: str
    id: int
    via_session: bool = False
    tenant_id: int | None = None

    def actor(self) -> Actor:
        device = request.headers.get("X-Antre-Device") or (self.name if self.kind != "user" else None)
        return Actor(
            name=self.name, role=self.role, device=device,
            user_id=self.id if self.kind == "user" else None,
            tenant_id=self.tenant_id if self.role == "counter" and self.kind == "user" else None,
        )

    def allowed(self, roles: tuple[str, ...]) -> bool:
        if not roles or "any" in roles:
            return True
        return any(self.role in ROLE_ALIASES.get(r, {r}) for r in roles)


_token_cache: dict[str, tuple[float, core_auth.TokenInfo | None]] = {}


def _verify_bearer(token: str) -> core_auth.TokenInfo | None:
    key = core_auth.hash_token(token)
    now = time.monotonic()
    hit = _token_cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    info = antre().run(core_auth.verify_token, antre().store, token)
    if len(_token_cache) > 1000:
        _token_cache.clear()
    _token_cache[key] = (now + _TOKEN_CACHE_SECONDS, info)
    return info


def forget_cached_tokens() -> None:
    _token_cache.clear()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise ApiError(
            403, "csrf_failed", "Sesi kedaluwarsa; muat ulang halaman. (CSRF check failed: reload the page.)"
        )


def current_principal() -> Principal | None:
    """The principal of this request, or None (cached per request)."""
    if "principal" in g:
        return g.principal
    principal: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Gunakan Authorization: Bearer TOKEN. (Use a bearer token.)")
        info = _verify_bearer(token.strip())
        if info is None:
            raise ApiError(401, "invalid_token", "Token tidak sah atau dicabut. (Invalid or revoked token.)")
        principal = Principal("token", info.role, info.name, info.id)
    elif session.get("user_id"):
        if time.time() - float(session.get("login_at", 0)) > STAFF_SESSION_HOURS * 3600:
            session.pop("user_id", None)
        else:
            user = antre().run(core_auth.session_user, antre().store, int(session["user_id"]),
                               int(session.get("epoch", 0)))
            if user is None:  # deactivated, or its password reset since: this session has ended
                session.pop("user_id", None)
            else:
                principal = Principal("user", user["role"], user["username"], user["id"], True, user["tenant_id"])
    if principal is None and session.get("device_token_id"):
        info = antre().run(core_auth.token_by_id, antre().store, int(session["device_token_id"]))
        if info is not None:
            principal = Principal("device", info.role, info.name, info.id, True)
        else:
            session.pop("device_token_id", None)
    g.principal = principal
    return principal


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the request unless its principal has one of ``roles`` ("any": any)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise ApiError(401, "unauthorized", "Perlu token atau log masuk. (Authentication required.)")
            if principal.via_session:
                _check_csrf()
            if not principal.allowed(roles):
                raise ApiError(
                    403, "forbidden",
                    f"Peran '{principal.role}' tidak boleh melakukan ini. (Role not allowed here.)",
                )
            g.actor = principal.actor()
            return view(*args, **kwargs)

        return wrapper

    return decorate


def pair_device(page_roles: tuple[str, ...]) -> Any | None:
    """Pair this browser to ``?token=`` and redirect to the clean address.

    Returns a redirect response when a token was given and accepted, raises
    an :class:`ApiError` when it was refused, and None when there was none.
    """
    token = request.args.get("token")
    if token is None:
        return None
    info = antre().run(core_auth.verify_token, antre().store, token.strip())
    if info is None or info.role not in page_roles:
        raise ApiError(403, "invalid_token", "Token tidak sah untuk halaman ini. (Token not valid for this page.)")
    session.clear()
    session.permanent = True
    session["device_token_id"] = info.id
    csrf_token()
    args = {k: v for k, v in request.args.items() if k != "token"}
    return redirect(request.path + ("?" + urlencode(args) if args else ""))


def device_principal(page_roles: tuple[str, ...]) -> Principal | None:
    principal = current_principal()
    if principal is None or principal.kind == "token":
        return None
    if principal.kind == "device" and principal.role in page_roles:
        return principal
    if principal.kind == "user" and principal.role in ("admin", "supervisor"):
        return principal  # staff may open device pages to check them
    return None


def login_session(user: dict[str, Any]) -> None:
    session.clear()
    session.permanent = True
    session["user_id"] = user["id"]
    session["epoch"] = user["session_epoch"]
    session["login_at"] = time.time()
    csrf_token()
