"""The survey tablet at a counter: ``/survey/<counter_id>``.

A tablet (or a second screen) facing the visitor, paired as a ``display`` or
``kiosk`` device (``?token=`` or a short code), or opened in a staff session.
When the counter ends a ticket as served, the tablet offers that ticket's SKM
survey, one question at a time with four large answers (touch, keys 1–4, Tab
and Enter), and answers through ``POST /api/v1/tickets/{id}/survey``.  It
learns of a served ticket over Socket.IO (the counter's room) and, as a
fallback, by polling ``GET /survey/<counter_id>/pending``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from antre import reports as core
from antre import survey
from antre.rules import NotFound
from reports import bp
from web.auth import csrf_token, current_principal, pair_device
from web.context import antre
from web.errors import ApiError
from web.i18n import js_messages
from web.pages import page_lang

TABLET_ROLES = ("display", "kiosk")
STAFF_ROLES = ("admin", "supervisor", "counter")
#: how long after service a tablet still offers the survey
WINDOW_MINUTES = 15

JS_MESSAGES = [
    "Survei Kepuasan Masyarakat", "Terima kasih telah berkunjung.",
    "Setelah Anda selesai dilayani, survei singkat akan muncul di layar ini.",
    "Nomor %(number)s · %(service)s", "Bagaimana pelayanan kami? 9 pertanyaan singkat, tanpa nama.",
    "Mulai", "Lewati", "Pertanyaan %(n)s dari %(total)s", "Kembali", "Saran (tidak wajib)", "Kirim",
    "Mengirim…", "Terima kasih atas penilaian Anda!", "Penilaian Anda membantu kami meningkatkan pelayanan.",
    "Survei untuk nomor ini sudah diisi. Terima kasih!", "Survei belum dapat dikirim. Silakan coba lagi.",
    "Periksa jawaban Anda", "Ubah", "Tekan 1–4 atau ketuk jawaban.", "Terhubung", "Terputus — mencoba lagi…",
    "Jawaban terpilih: %(answer)s", "Belum dijawab",
]


def _principal_ok() -> bool:
    try:
        principal = current_principal()
    except ApiError:
        return False
    if principal is None or principal.kind == "token":
        return False
    if principal.kind == "device":
        return principal.role in TABLET_ROLES
    return principal.role in STAFF_ROLES


def _counter(counter_id: int) -> dict[str, Any] | None:
    try:
        return antre().run(antre().queue.counter, counter_id)
    except NotFound:
        return None


def _questionnaire() -> list[dict[str, Any]]:
    return [{"code": e.code, "id": {"name": e.name, "question": e.question, "answers": list(e.answers)},
             "en": {"name": e.name_en, "question": e.question_en, "answers": list(e.answers_en)}}
            for e in survey.ELEMENTS]


@bp.get("/survey/<id:counter_id>")
def tablet_page(counter_id: int) -> Any:
    lang = page_lang()
    try:
        redirect_response = pair_device(TABLET_ROLES)
    except ApiError:
        return render_template("unpaired.html", reason="invalid", roles=TABLET_ROLES, lang=lang), 403
    if redirect_response is not None:
        return redirect_response
    if not _principal_ok():
        return render_template("unpaired.html", reason="missing", roles=TABLET_ROLES, lang=lang), 401
    counter = _counter(counter_id)
    if counter is None:
        return render_template("reports/tablet_unknown.html", counter_id=counter_id, lang=lang), 404
    data = {
        "counter": {"id": counter["id"], "name": counter["name"]}, "lang": lang,
        "pending_url": f"/survey/{counter['id']}/pending", "questions": _questionnaire(),
        "messages": js_messages(JS_MESSAGES), "comment_max": survey.COMMENT_MAX,
        "idle_seconds": 90, "thanks_seconds": 8, "poll_seconds": 5,
    }
    mpp_name = antre().setting("mpp_name", "Mal Pelayanan Publik")
    return render_template("reports/tablet.html", data=data, counter=counter, lang=lang, mpp_name=mpp_name,
                           csrf_token=csrf_token())


@bp.get("/survey/<id:counter_id>/pending")
def tablet_pending(counter_id: int) -> Any:
    """``{"ticket": {"ticket_id", "number", "service"} | null}``: what the tablet should offer now."""
    if not _principal_ok():
        raise ApiError(401, "unauthorized", "Perangkat belum dipasangkan. (Device not paired.)")
    if _counter(counter_id) is None:
        raise NotFound("counter_not_found", f"Loket {counter_id} tidak ditemukan. (Counter not found.)")
    store, now = antre().store, antre().clock.now()

    def read() -> Any:
        with store.read() as db:
            return core.pending_survey(db, counter_id, now, WINDOW_MINUTES)

    response = jsonify({"ticket": antre().run(read)})
    response.headers["Cache-Control"] = "no-store"
    return response
