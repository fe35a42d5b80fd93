"""Who may open which admin page, and what every admin page shares.

Roles (staff accounts; a bearer token never opens an admin page):

============  =================================================================
admin         everything below
supervisor    the overview of the queue, the running text, the audit log (and
              the reports, built elsewhere); NOT tenants, services, counters,
              settings, voice, staff accounts, devices/tokens or webhooks
counter       no admin page (sent to ``/counter``)
============  =================================================================

:func:`admin_page` enforces this on every view: no session → the log-in page;
a wrong role → a 403 page that says why; a POST without the session's CSRF
token → a 403 page that asks to reload.  Other parts (the reports) can reuse it
and the layout: ``@admin_page("reports")`` and ``{% extends "admin/layout.html" %}``.
"""

from __future__ import annotations

import functools
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l

from antre.config import Change, Config
from antre.queue import Actor
from antre.rules import RuleError
from web.auth import Principal, csrf_token, current_principal, forget_cached_tokens
from web.context import antre
from web.errors import ApiError

STAFF_ROLES = ("admin", "supervisor")

#: permission → roles that have it
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "overview": ("admin", "supervisor"),
    "running_text": ("admin", "supervisor"),
    "audit": ("admin", "supervisor"),
    "reports": ("admin", "supervisor"),
    "setup": ("admin",),  # tenants, services, counters
    "settings": ("admin",),  # MPP name, kiosks, tickets, printers, voice
    "accounts": ("admin",),
    "devices": ("admin",),
    "webhooks": ("admin",),
}

#: the menu: (endpoint, label, permission)
NAV: list[tuple[str, Any, str]] = [
    ("admin.home", _l("Ringkasan"), "overview"),
    ("admin.tenants", lazy_pgettext("menu", "Instansi"), "setup"),
    ("admin.services", lazy_pgettext("menu", "Layanan"), "setup"),
    ("admin.counters", lazy_pgettext("menu", "Loket"), "setup"),
    ("admin.users", _l("Akun petugas"), "accounts"),
    ("admin.devices", _l("Perangkat"), "devices"),
    ("admin.settings", _l("Pengaturan umum"), "settings"),
    ("admin.voice", _l("Suara panggilan"), "settings"),
    ("admin.running_text", _l("Teks berjalan"), "running_text"),
    ("admin.webhooks", _l("Webhook"), "webhooks"),
    ("admin.audit", _l("Log audit"), "audit"),
]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def can(role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS.get(permission, ())


def config() -> Config:
    """The :class:`Config` of this app (one per app, on the app's clock)."""
    app_antre = antre()
    cfg = app_antre.extras.get("config")
    if cfg is None:
        cfg = app_antre.extras["config"] = Config(app_antre.store, app_antre.clock)
    return cfg


def staff_principal() -> Principal | None:
    """The logged-in staff member of this request (session only), or None."""
    try:
        principal = current_principal()
    except ApiError:  # a bad Authorization header: not a staff session either
        return None
    if principal is None or principal.kind != "user":
        return None
    return principal


def device_label() -> str:
    """Which device a change came from: a name the device gives, else its address."""
    named = (request.headers.get("X-Antre-Device") or "").strip()
    if named:
        return "".join(ch for ch in named if ch.isprintable())[:64]
    return f"ip:{request.remote_addr or '?'}"


def actor_of(principal: Principal) -> Actor:
    return Actor(name=principal.name, role=principal.role, device=device_label(), user_id=principal.id,
                 tenant_id=principal.tenant_id)


def csrf_ok() -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent, expected)


def refusal(status: int, title: str, message: str) -> Any:
    """A friendly refusal page (never a bare JSON error in the admin)."""
    principal = staff_principal()
    return render_template("admin/refused.html", title=title, message=message, principal=principal,
                           nav=nav_for(principal), csrf_token=csrf_token(), lang=str(get_locale() or "id"),
                           mpp_name=_mpp_name()), status


def admin_page(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard an admin view: staff session, CSRF on writes, the role's permission."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = staff_principal()
            if principal is None:
                if request.method in SAFE_METHODS:
                    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
                return refusal(401, _l("Perlu log masuk"), _l("Sesi Anda berakhir. Silakan log masuk lagi."))
            if request.method not in SAFE_METHODS and not csrf_ok():
                return refusal(403, _l("Sesi kedaluwarsa"),
                               _l("Formulir ini sudah kedaluwarsa atau tidak berasal dari halaman ini. Muat ulang "
                                  "halaman lalu coba lagi; tidak ada yang diubah."))
            if principal.role not in STAFF_ROLES:
                return refusal(403, _l("Bukan halaman Anda"),
                               _l("Halaman admin hanya untuk admin dan supervisor. Petugas loket bekerja di "
                                  "halaman Loket."))
            if not can(principal.role, permission):
                return refusal(403, _l("Tidak diizinkan"),
                               _l("Peran Anda (%(role)s) tidak boleh membuka atau mengubah bagian ini. Hubungi "
                                  "admin MPP.", role=principal.role))
            g.staff = principal
            g.actor = actor_of(principal)
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def nav_for(principal: Principal | None) -> list[dict[str, Any]]:
    if principal is None or principal.role not in STAFF_ROLES:
        return []
    items = [{"endpoint": e, "label": label, "url": url_for(e)} for e, label, perm in NAV if can(principal.role, perm)]
    reports = _reports_url()
    if reports and can(principal.role, "reports"):
        items.insert(1, {"endpoint": "reports", "label": _l("Laporan"), "url": reports})
    return items


def _reports_url() -> str | None:
    """The reports part's page, when it is installed (``/admin/reports`` or ``/reports``)."""
    rules = {r.rule.rstrip("/") for r in current_app.url_map.iter_rules()}
    for candidate in ("/admin/reports", "/reports"):
        if candidate in rules:
            return candidate
    return None


def _mpp_name() -> str:
    try:
        return str(antre().setting("mpp_name", "Mal Pelayanan Publik"))
    except Exception:  # noqa: BLE001 - the page still renders without the name
        return "Mal Pelayanan Publik"


def render(template: str, status: int = 200, **context: Any) -> Any:
    """Render an admin page with what the layout needs."""
    principal = getattr(g, "staff", None) or staff_principal()
    body = render_template(template, principal=principal, nav=nav_for(principal), csrf_token=csrf_token(),
                           lang=str(get_locale() or "id"), mpp_name=_mpp_name(), **context)
    return body, status


def publish(change: Change) -> None:
    """Tell kiosks, displays and staff screens about an accepted change, at once."""
    if not change.changed:
        return
    if change.action == "token.revoked" and change.id is not None:
        from web.push import drop_token

        forget_cached_tokens()
        drop_token(change.id)
    if change.what:
        publisher = antre().extras.get("publisher")
        if publisher is not None:
            publisher.config_changed(change.what)


def attempt(form: Any, action: Callable[..., Change], *args: Any) -> Change | None:
    """Run a change off the event loop and publish it; a refusal lands in ``form``
    (an :class:`admin.forms.FormState`), and nothing was written.

    ``action`` and ``args`` are evaluated by the caller, in the request: the
    worker thread that runs the change has no request context.
    """
    try:
        change = antre().run(action, *args)
    except RuleError as exc:
        form.refused(exc)
        return None
    publish(change)
    return change


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key, in this process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:
                self._hits.clear()
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
