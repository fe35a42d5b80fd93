"""The kiosk page (``/kiosk``), the QR code of a ticket as SVG, and speech-mode audio."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from flask import Response, request

from antre.rules import NotFound
from kiosk.blueprint import bp
from kiosk.speech import KioskSpeech, UnknownKey
from kiosk.texts import TEXTS
from web.auth import current_principal, require
from web.context import antre
from web.errors import ApiError
from web.i18n import js_messages
from web.pages import device_page, page_lang

DEFAULTS = {
    "idle_seconds": 30,  # the admin's ``kiosk_idle_seconds``
    "warn_seconds": 20,  # WCAG 2.2.1: at least 20 s to ask for more time
    "repeat_guard_seconds": 10,
    "scan_seconds": 1.5,
    "print_wait_seconds": 12,
    "fallback_idle_seconds": 90,
}


def messages() -> dict[str, dict[str, str]]:
    """Both languages of every page text, by key."""
    by_msgid = js_messages(TEXTS.values())
    return {lang: {key: by_msgid[lang][msgid] for key, msgid in TEXTS.items()} for lang in by_msgid}


def page_config() -> dict[str, Any]:
    """What the page needs to draw itself before Socket.IO connects."""
    app_antre = antre()
    queue = app_antre.queue

    def read() -> dict[str, Any]:
        with app_antre.store.read() as db:
            get = app_antre.store.get_setting
            settings = {
                "mpp_name": get(db, "mpp_name", "Mal Pelayanan Publik"),
                "idle_seconds": get(db, "kiosk_idle_seconds", DEFAULTS["idle_seconds"]),
                "repeat_guard_seconds": get(db, "kiosk.repeat_guard_seconds", DEFAULTS["repeat_guard_seconds"]),
                "scan_seconds": get(db, "kiosk.scan_seconds", DEFAULTS["scan_seconds"]),
            }
            counters: dict[int, list[str]] = defaultdict(list)
            for service_id, name in db.conn.execute(
                "SELECT cs.service_id, c.name FROM counter_services cs JOIN counters c ON c.id = cs.counter_id "
                "ORDER BY c.sort, c.id"
            ):
                counters[service_id].append(name)
        return {**settings, "counters": counters, "services": queue.services(), "tenants": queue.tenants()}

    data = app_antre.run(read)
    principal = current_principal()
    for key in ("idle_seconds", "repeat_guard_seconds"):
        if not isinstance(data[key], int) or isinstance(data[key], bool) or not 5 <= data[key] <= 3600:
            data[key] = DEFAULTS[key]
    if not isinstance(data["scan_seconds"], int | float) or not 0.5 <= data["scan_seconds"] <= 10:
        data["scan_seconds"] = DEFAULTS["scan_seconds"]
    return {
        **DEFAULTS,
        **data,
        "kiosk": {"id": principal.id if principal is not None and principal.kind == "device" else None,
                  "name": principal.name if principal is not None else ""},
        "staff_view": principal is not None and principal.kind == "user",
        "messages": messages(),
    }


@bp.get("/kiosk")
def kiosk_page() -> Any:
    return device_page("kiosk/kiosk.html", ("kiosk",), lang=page_lang(), kiosk_config=page_config)


# --------------------------------------------------------------------- QR


@bp.get("/kiosk/qr/<id:ticket_id>.svg")
@require("kiosk", "admin")
def ticket_qr(ticket_id: int) -> Any:
    """The QR code of a ticket's tracking address, drawn here (no CDN, no script)."""
    ticket = antre().run(antre().queue.ticket, ticket_id)
    svg = qr_svg(ticket["track_url"])
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def qr_svg(data: str) -> bytes:
    """A QR code as SVG: black modules on white with its quiet zone, scaled by CSS."""
    import qrcode
    import qrcode.image.svg

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathFillImage)
    qr.add_data(data)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out)
    return out.getvalue()


# ----------------------------------------------------------------- speech


def kiosk_speech() -> KioskSpeech:
    return antre().extras["kiosk_speech"]


@bp.get("/kiosk/speech/<lang>.wav")
@require("kiosk", "admin")
def speech(lang: str) -> Any:
    """One WAV of a few known keys (``?keys=ui.welcome,service.3``); never of free text."""
    if lang not in ("id", "en"):
        raise NotFound("unknown_language", "Bahasa tidak dikenal. (Unknown language.)")
    raw = request.args.get("keys", "")
    keys = [k for k in raw.split(",") if k][:9] if len(raw) <= 400 else []
    engine = kiosk_speech()
    try:
        wav = engine.speak(keys, lang)
    except UnknownKey:
        raise ApiError(400, "unknown_speech_key", "Teks ini tidak dapat diucapkan. (Unknown speech key.)") from None
    except Exception as exc:  # noqa: BLE001 - no synthesizer here: the page goes on silently
        raise ApiError(404, "speech_unavailable", f"Suara tidak tersedia. (Speech unavailable: {exc})") from None
    engine.start_preparing()
    response = Response(wav, mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response
