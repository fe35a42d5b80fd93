"""The visitor's phone page behind each ticket's ``track_url`` (``/t/<token>``).

No app, no log-in: the unguessable token in the address *is* the access,
to this one ticket only.  The page shows what a waiting-room display shows
about the ticket -- number, service, position, estimated wait, counter --
and nothing personal.  It follows the ticket live over Socket.IO with
``auth={"track": TOKEN}`` (room ``ticket:<id>``), rings and vibrates when
the number is called, and offers the SKM survey after service.

Routes (all public, all keyed by the token):

* ``GET /t/<token>``: the page (a friendly 404 page for an unknown token).
* ``GET /t/<token>/state``: ``{"ticket", "counter", "service"}`` as JSON (the
  page's fallback when its live connection is down).
* ``GET /t/chime.wav``: the call chime.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import MethodNotAllowed, NotFound

from antre.rules import NotFound as TicketNotFound
from tracking import skm
from tracking.chime import chime_wav
from web.context import antre
from web.i18n import js_messages
from web.pages import page_lang

bp = Blueprint("tracking", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/tracking")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SURVEY_PATH = "/api/v1/tickets/1/survey"

#: messages track.js needs in both languages
JS_MESSAGES = [
    "Menunggu", "Ada %(n)s orang di depan Anda", "Anda berikutnya!", "Perkiraan waktu tunggu: ± %(m)s menit",
    "Sebentar lagi giliran Anda.", "Nomor Anda dipanggil!", "Silakan menuju %(counter)s",
    "Silakan menuju loket", "Sedang dilayani", "Anda sedang dilayani di %(counter)s", "Selesai",
    "Terima kasih telah menggunakan layanan kami.", "Tidak hadir",
    "Nomor Anda sudah dipanggil tetapi Anda tidak datang. Silakan hubungi petugas informasi.",
    "Dibatalkan", "Nomor antrian ini dibatalkan. Silakan hubungi petugas informasi bila ada pertanyaan.",
    "Aktif", "Mati", "Terhubung — diperbarui langsung", "Terputus — mencoba menghubungkan kembali…",
    "Menghubungkan…", "Antrian %(number)s", "Dipanggil: %(number)s ke %(counter)s",
    "Mohon jawab semua pertanyaan.", "Mengirim…", "Kirim survei", "Terima kasih atas penilaian Anda!",
    "Survei untuk nomor ini sudah diisi. Terima kasih!", "Survei belum dapat dikirim. Silakan coba lagi.",
    "Nomor antrian Anda", "Bunyi dan getar saat dipanggil",
    "Ketuk sekali agar ponsel berbunyi dan bergetar saat nomor Anda dipanggil. Biarkan halaman ini tetap terbuka.",
    "Survei Kepuasan Masyarakat", "Bantu kami meningkatkan pelayanan: 9 pertanyaan singkat, tanpa nama.",
    "Saran (tidak wajib)", "Halaman ini tidak meminta dan tidak menyimpan data pribadi Anda.",
    "Nomor Anda dipanggil ulang!", "Mal Pelayanan Publik",
]


def _no_store(response: Response) -> Response:
    """The address is a secret of one ticket: keep it out of caches, referrers and search engines."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _csp(response: Response) -> Response:
    host = request.host
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'; object-src 'none'"
    )
    return response


def track_state(token: str) -> dict[str, Any] | None:
    """``{"ticket", "counter", "service"}`` of a tracking token, or None (what ``queue:state`` sends)."""
    if not TOKEN_RE.match(token):
        return None
    queue = antre().queue

    def read() -> dict[str, Any] | None:
        try:
            ticket = queue.ticket_by_token(token)
        except TicketNotFound:
            return None
        return {"ticket": ticket, **queue.lookup(ticket["counter_id"], ticket["service_id"])}

    return antre().run(read)


def survey_available() -> bool:
    """True once some part serves ``POST /api/v1/tickets/{id}/survey``."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(SURVEY_PATH, method="POST")
    except (NotFound, MethodNotAllowed):
        return False
    return True


def _texts(state: dict[str, Any]) -> tuple[str, str, str]:
    """Status title and two lines, as the script would draw them (the page reads right before it runs)."""
    t = state["ticket"]
    counter = state["counter"]["name"] if state.get("counter") else ""
    status = t["status"]
    if status == "waiting":
        ahead = gettext("Anda berikutnya!") if t["position"] == 0 else gettext(
            "Ada %(n)s orang di depan Anda", n=t["position"])
        eta = gettext("Sebentar lagi giliran Anda.") if not t["eta_minutes"] else gettext(
            "Perkiraan waktu tunggu: ± %(m)s menit", m=t["eta_minutes"])
        return gettext("Menunggu"), ahead, eta
    if status == "called":
        return gettext("Nomor Anda dipanggil!"), gettext("Silakan menuju %(counter)s", counter=counter), ""
    if status == "serving":
        return gettext("Sedang dilayani"), gettext("Anda sedang dilayani di %(counter)s", counter=counter), ""
    if status == "served":
        return gettext("Selesai"), gettext("Terima kasih telah menggunakan layanan kami."), ""
    if status == "no_show":
        return gettext("Tidak hadir"), gettext(
            "Nomor Anda sudah dipanggil tetapi Anda tidak datang. Silakan hubungi petugas informasi."), ""
    return gettext("Dibatalkan"), gettext(
        "Nomor antrian ini dibatalkan. Silakan hubungi petugas informasi bila ada pertanyaan."), ""


@bp.get("/t/chime.wav")
def chime() -> Any:
    response = Response(chime_wav(), mimetype="audio/wav")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _not_found(lang: str, mpp_name: str) -> Response:
    response = Response(render_template("tracking/not_found.html", lang=lang, mpp_name=mpp_name), 404)
    return _csp(_no_store(response))


@bp.get("/t/")
@bp.get("/t/<path:_rest>")
def not_found_page(_rest: str = "") -> Any:
    """Any other address under /t/ (a mistyped or cut-off link)."""
    lang = page_lang()
    g.lang = lang
    return _not_found(lang, antre().setting("mpp_name", "Mal Pelayanan Publik"))


def _ticket_lang(token: str) -> str | None:
    """The language the visitor chose at the kiosk for this ticket."""
    store = antre().store

    def read() -> str | None:
        with store.read() as db:
            row = db.conn.execute("SELECT lang FROM tickets WHERE track_token = ?", (token,)).fetchone()
        return row[0] if row is not None and row[0] in ("id", "en") else None

    return antre().run(read)


@bp.get("/t/<token>")
def track_page(token: str) -> Any:
    state = track_state(token)
    # ?lang= first, else the language chosen at the kiosk (the page remembers a later toggle itself)
    lang = request.args.get("lang") if request.args.get("lang") in ("id", "en") else (
        _ticket_lang(token) if state is not None else None) or page_lang()
    g.lang = lang
    mpp_name = antre().setting("mpp_name", "Mal Pelayanan Publik")
    if state is None:
        return _not_found(lang, mpp_name)
    service = state["service"]
    title, line1, line2 = _texts(state)
    page_data = {
        "token": token,
        "lang": lang,
        "state": state,
        "messages": js_messages([*JS_MESSAGES, *skm.msgids()]),
        "survey": survey_available(),
        "survey_url": f"/api/v1/tickets/{state['ticket']['id']}/survey",
    }
    html = render_template(
        "tracking/track.html", lang=lang, state=state, mpp_name=mpp_name, page_data=page_data,
        service_name=service["name_en"] if lang == "en" else service["name"], status_title=title, line1=line1,
        line2=line2, survey_available=page_data["survey"], skm=skm.ELEMENTS,
    )
    return _csp(_no_store(Response(html, mimetype="text/html")))


@bp.get("/t/<token>/state")
def track_state_json(token: str) -> Any:
    state = track_state(token)
    if state is None:
        response = jsonify({"error": {"code": "ticket_not_found",
                                      "message": "Tiket tidak ditemukan. (Ticket not found.)"}})
        response.status_code = 404
        return _no_store(response)
    return _no_store(jsonify(state))
