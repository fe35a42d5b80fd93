"""Counter pages: log in, take a counter, the work screen, log out.

Forms post with the session's CSRF token (a hidden ``csrf_token`` field); the
work screen then calls the REST API with the session cookie and the
``X-CSRF-Token`` header.  A browser paired with a ``counter`` device token
(``/counter?token=...``) may open any counter's work screen without a person's
log-in: devices are not people, so they hold nothing and are not tenant-bound.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from antre import staff
from antre.queue import Outcome
from antre.rules import RuleError
from web.auth import Principal, csrf_token, current_principal, login_session, pair_device
from web.context import antre
from web.errors import ApiError
from web.i18n import js_messages

bp = Blueprint("counter", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/counter")

DEVICE_ROLES = ("counter", "admin")
#: the work screen's keys (one letter, no modifier; they can be turned off, WCAG 2.1.4)
SHORTCUTS = {"next": "P", "recall": "U", "start": "M", "finish": "S", "no_show": "T", "transfer": "A",
             "call_specific": "N", "pause": "I", "resume": "L"}
PAUSE_REASONS = ("Istirahat", "Sholat", "Makan siang", "Urusan dinas")

#: texts the work screen's script shows (both languages go to the page)
JS_MESSAGES = [
    "Panggil berikutnya", "Selesai & panggil berikutnya", "Belum ada tiket dipanggil.",
    "Dipanggil", "Sedang dilayani", "Prioritas", "Loket sedang istirahat", "Alasan: %(reason)s",
    "dipanggil %(time)s", "%(n)s menit", "< 1 menit",
    "%(number)s dipanggil.", "%(number)s dipanggil ulang.", "%(number)s mulai dilayani.",
    "%(number)s selesai dilayani.", "%(number)s ditandai tidak hadir.", "%(number)s dialihkan.",
    "Tidak ada antrian yang menunggu.", "Loket istirahat.", "Loket dibuka kembali.",
    "Koneksi ke server terputus. Mencoba menyambung kembali…",
    "Tersambung kembali; data diperbarui.", "Memuat…",
    "%(m)s mnt %(s)s dtk", "Tidak tersedia sekarang.",
    "Loket ini tidak lagi dipegang oleh Anda.", "Tidak ada yang menunggu.",
    "Isi alasan (minimal 3 huruf).", "Isi nomor antrian.", "Pilih tujuan.",
    "Pintasan keyboard aktif.", "Pintasan keyboard nonaktif.",
    "%(count)s lagi tidak ditampilkan.", "Panggil",
]


# ------------------------------------------------------------------ helpers


def _lang() -> str:
    lang = request.args.get("lang")
    if lang in ("id", "en"):
        session["lang"] = lang
    else:
        lang = session.get("lang") if session.get("lang") in ("id", "en") else "id"
    g.lang = lang
    return lang


def _who() -> Principal | None:
    """A staff member, or a browser paired with a counter device token; else None."""
    try:
        principal = current_principal()
    except ApiError:
        return None
    if principal is None:
        return None
    if principal.kind == "user" and principal.role in staff.STAFF_ROLES:
        return principal
    if principal.kind == "device" and principal.role in DEVICE_ROLES:
        return principal
    return None


def _actor(principal: Principal) -> Any:
    return principal.actor()


def _form_csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent, expected)


def _render(template: str, status: int = 200, **context: Any) -> Any:
    lang = _lang()
    # The language links reload the page itself; after a form post, the counter home.
    lang_base = request.path if request.method == "GET" else url_for("counter.home")
    return make_response(
        render_template(template, lang=lang, lang_base=lang_base, csrf_token=csrf_token(), **context), status
    )


def _form_int(name: str) -> int | None:
    raw = request.form.get(name, "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def _error(message: str) -> None:
    flash(message, "error")


def _publish_counter(counter_id: int) -> None:
    antre().publish(Outcome(None, counter_id=counter_id))


@bp.after_request
def _no_store(response: Any) -> Any:
    # Staff screens show people's numbers: never from a shared cache or the back button of a logged-out browser.
    response.headers["Cache-Control"] = "no-store"
    return response


# -------------------------------------------------------------------- pages


@bp.get("/counter")
def home() -> Any:
    """Log-in form, or the counter this person holds, or the counter choice."""
    try:
        paired = pair_device(DEVICE_ROLES)
    except ApiError as exc:
        _lang()
        return _render("counter/login.html", 403, error=exc.message, username="")
    if paired is not None:
        return paired
    who = _who()
    if who is None:
        return _render("counter/login.html", username="", notices=get_flashed_messages(with_categories=True))
    if who.kind == "user":
        hold = antre().run(staff.held_by, antre().queue, who.id)
        if hold is not None:
            return redirect(url_for("counter.work", counter_id=hold["counter_id"], **_lang_arg()))
    return redirect(url_for("counter.choose", **_lang_arg()))


def _lang_arg() -> dict[str, str]:
    lang = request.args.get("lang")
    return {"lang": lang} if lang in ("id", "en") else {}


@bp.get("/counter/login")
@bp.get("/counter/logout")
def login_page() -> Any:
    """A reload or a bookmark of the form's target: back to the start."""
    return redirect(url_for("counter.home", **_lang_arg()))


@bp.post("/counter/login")
def login() -> Any:
    lang = _lang()
    username = request.form.get("username", "")[:64]
    if not _form_csrf_ok():
        return _render("counter/login.html", 400, username=username, error=_csrf_message())
    try:
        user = antre().run(staff.log_in, antre().store, username, request.form.get("password", ""),
                           request.remote_addr)
    except staff.TooManyAttempts as exc:
        response = _render("counter/login.html", 429, username=username, error=exc.message)
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
        return response
    except RuleError as exc:
        status = 403 if exc.code == "account_locked" else 401
        return _render("counter/login.html", status, username=username, error=exc.message)
    login_session(user)
    session["lang"] = lang
    return redirect(url_for("counter.home"), code=303)


def _csrf_message() -> str:
    return ("Sesi formulir kedaluwarsa. Silakan coba lagi. "
            "(The form's session expired. Please try again.)")


@bp.post("/counter/logout")
def logout() -> Any:
    lang = _lang()
    who = _who()
    if not _form_csrf_ok():
        _error(_csrf_message())
        return redirect(url_for("counter.home"), code=303)
    if who is not None and who.kind == "user":
        for hold in antre().run(staff.release_all_of, antre().queue, _actor(who)):
            _publish_counter(hold["counter_id"])
    session.clear()
    session["lang"] = lang
    flash("Anda sudah keluar. (You are logged out.)", "info")
    return redirect(url_for("counter.home"), code=303)


@bp.get("/counter/choose")
def choose() -> Any:
    who = _who()
    if who is None:
        return redirect(url_for("counter.home", **_lang_arg()))
    counters = antre().run(staff.overview, antre().queue, _actor(who))
    return _render(
        "counter/choose.html", who=who, counters=counters, can_release=who.role in staff.SUPERVISING_ROLES,
        display_name=_display_name(who), notices=get_flashed_messages(with_categories=True),
    )


def _display_name(who: Principal) -> str:
    if who.kind != "user":
        return who.name
    user = antre().run(staff.auth.get_user, antre().store, who.id) or {}
    return user.get("display_name") or who.name


@bp.post("/counter/take")
def take() -> Any:
    _lang()
    who = _who()
    if who is None:
        return redirect(url_for("counter.home"), code=303)
    if not _form_csrf_ok():
        _error(_csrf_message())
        return redirect(url_for("counter.choose"), code=303)
    counter_id = _form_int("counter_id")
    try:
        hold = antre().run(staff.take_counter, antre().queue, counter_id, _actor(who))
    except RuleError as exc:
        _error(exc.message)
        return redirect(url_for("counter.choose"), code=303)
    _publish_counter(hold["counter_id"])
    return redirect(url_for("counter.work", counter_id=hold["counter_id"]), code=303)


@bp.post("/counter/release")
def release() -> Any:
    _lang()
    who = _who()
    if who is None:
        return redirect(url_for("counter.home"), code=303)
    if not _form_csrf_ok():
        _error(_csrf_message())
        return redirect(url_for("counter.choose"), code=303)
    counter_id = _form_int("counter_id")
    try:
        hold = antre().run(staff.release_counter, antre().queue, counter_id, _actor(who))
    except RuleError as exc:
        _error(exc.message)
        return redirect(url_for("counter.choose"), code=303)
    if hold is not None:
        _publish_counter(hold["counter_id"])
        if hold["user"]["id"] != who.id or who.kind != "user":
            flash(f"{hold['counter_name']} dilepas dari {hold['user']['display_name']}. "
                  f"({hold['counter_name']} released from {hold['user']['display_name']}.)", "info")
        else:
            flash(f"Anda melepas {hold['counter_name']}. (You released {hold['counter_name']}.)", "info")
    return redirect(url_for("counter.choose"), code=303)


@bp.get("/counter/<id:counter_id>")
def work(counter_id: int) -> Any:
    who = _who()
    if who is None:
        return redirect(url_for("counter.home", **_lang_arg()))
    queue = antre().queue
    try:
        counter = antre().run(staff.desk, queue, counter_id, _actor(who))
    except RuleError as exc:
        _error(exc.message)
        return redirect(url_for("counter.choose", **_lang_arg()))
    if who.kind == "user" and (counter["holder"] is None or counter["holder"]["id"] != who.id):
        if counter["holder"] is None:
            _error(f"Ambil {counter['name']} dulu sebelum bekerja di sana. "
                   f"(Take {counter['name']} before working there.)")
        else:
            hold = antre().run(staff.hold_of, queue, counter_id)
            _error(staff.taken_message(hold) if hold else "")
        return redirect(url_for("counter.choose", **_lang_arg()))
    lang = _lang()
    config = {
        "counter_id": counter_id,
        "counter_name": counter["name"],
        "user": {"id": who.id if who.kind == "user" else None, "kind": who.kind, "role": who.role},
        "lang": lang,
        "shortcuts": SHORTCUTS,
        "pause_reasons": list(PAUSE_REASONS),
        "messages": js_messages(JS_MESSAGES),
    }
    return _render("counter/work.html", who=who, counter=counter, config=config, shortcuts=SHORTCUTS,
                   pause_reasons=PAUSE_REASONS, display_name=_display_name(who),
                   notices=get_flashed_messages(with_categories=True))
