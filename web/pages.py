"""What every HTML page shares: device pairing, CSRF token and language."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from web.auth import csrf_token, device_principal, pair_device
from web.errors import ApiError


def device_page(template: str, roles: tuple[str, ...], **context: Any) -> Any:
    """Render a device page (kiosk, display): pair on ``?token=``, else require a pairing.

    An unpaired browser gets a friendly page (HTTP 401) that says how to pair it.
    """
    try:
        redirect_response = pair_device(roles)
    except ApiError:
        return render_template("unpaired.html", reason="invalid", roles=roles), 403
    if redirect_response is not None:
        return redirect_response
    principal = device_principal(roles)
    if principal is None:
        return render_template("unpaired.html", reason="missing", roles=roles), 401
    return render_template(template, principal=principal, csrf_token=csrf_token(), **context)


def page_lang() -> str:
    lang = request.args.get("lang")
    return lang if lang in ("id", "en") else "id"
