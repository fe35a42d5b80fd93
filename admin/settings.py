"""General settings, printers, the call voice, running text and webhooks."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from admin import bp
from admin.access import admin_page, attempt, config, render
from admin.forms import FormState, form_values
from antre.config import (
    MAX_REPEATS,
    NUMBER_STYLES,
    OUTPUT_SETTINGS,
    VOICE_DEFAULTS,
    ZERO_WORDS,
    Change,
    clean_voice,
)
from antre.rules import RuleError
from web.context import antre
from web.i18n import js_messages

SAMPLE_NUMBER, SAMPLE_COUNTER = "A012", "Loket 3"


def _saved(change: Change, endpoint: str) -> Any:
    flash(_("Pengaturan disimpan; kiosk dan layar memakainya saat ini juga.") if change.changed
          else _("Tidak ada perubahan."), "ok")
    return redirect(url_for(endpoint), 303)


def _kiosks() -> list[dict[str, Any]]:
    return [t for t in antre().run(config().tokens) if t["role"] == "kiosk" and not t["revoked_at"]]


@bp.route("/settings", methods=["GET", "POST"])
@admin_page("settings")
def settings() -> Any:
    current = antre().run(config().settings)
    kiosks = _kiosks()
    printers = current["printers"] if isinstance(current["printers"], dict) else {}
    values: dict[str, Any] = {k: current[k] for k in ("mpp_name", "kiosk_idle_seconds", "ticket_footer")}
    values.update({f"printer_{k['id']}": printers.get(str(k["id"]), "") for k in kiosks})
    form = FormState(values=values)
    if request.method == "POST":
        form.values = form_values(request.form, "mpp_name", "kiosk_idle_seconds", "ticket_footer")
        form.values.update({f"printer_{k['id']}": request.form.get(f"printer_{k['id']}", "") for k in kiosks})
        update = {k: form.values[k] for k in ("mpp_name", "kiosk_idle_seconds", "ticket_footer")}
        # Printers of kiosks not on this form (revoked since) are dropped; those on it are replaced.
        update["printers"] = {str(k["id"]): form.values[f"printer_{k['id']}"] for k in kiosks}
        change = attempt(form, config().update_settings, g.actor, update)
        if change is not None:
            return _saved(change, "admin.settings")
    return render("admin/settings.html", 400 if form.errors else 200, form=form, kiosks=kiosks,
                  default_printer=antre().settings.printer)


def _voice_preview(voice: dict[str, Any]) -> dict[str, str]:
    """The sentences a call would speak now, in both languages (text only)."""
    try:
        from speech.sentence import VoiceSettings, build_announcement
    except ImportError:  # pragma: no cover - the speech part is always shipped
        return {}
    out = {}
    for lang in ("id", "en"):
        try:
            settings = VoiceSettings(lang=lang, **{k: voice[k] for k in VOICE_DEFAULTS})
            out[lang] = build_announcement(SAMPLE_NUMBER, SAMPLE_COUNTER, settings).text
        except (ValueError, TypeError, KeyError):
            out[lang] = ""
    return out


VOICE_FORM = ("number_style", "zero_word", "template_id", "template_en", "repeats")


@bp.route("/voice", methods=["GET", "POST"])
@admin_page("settings")
def voice() -> Any:
    settings = antre().run(config().settings)
    current = settings["voice"]
    form = FormState(values={**current, **{k: settings[k] for k in OUTPUT_SETTINGS}})
    preview = _voice_preview(current)
    if request.method == "POST":
        outputs = {k: request.form[k] for k in OUTPUT_SETTINGS if k in request.form}
        form.values = {**form_values(request.form, *VOICE_FORM), **{k: settings[k] for k in OUTPUT_SETTINGS},
                       **outputs}
        form.values["chime"] = request.form.get("chime") == "1"
        voice_values = {k: form.values[k] for k in (*VOICE_FORM, "chime")}
        if request.form.get("action") == "preview":
            try:
                preview = _voice_preview(clean_voice(voice_values))
            except RuleError as exc:
                form.refused(exc)
            return render("admin/voice.html", 400 if form.errors else 200, form=form, preview=preview,
                          previewing=True, **_voice_choices())
        update = {"voice": voice_values, **outputs}
        change = attempt(form, config().update_settings, g.actor, update)
        if change is not None:
            return _saved(change, "admin.voice")
    return render("admin/voice.html", 400 if form.errors else 200, form=form, preview=preview, previewing=False,
                  **_voice_choices())


def _voice_choices() -> dict[str, Any]:
    return {"number_styles": NUMBER_STYLES, "zero_words": ZERO_WORDS, "max_repeats": MAX_REPEATS,
            "sample_number": SAMPLE_NUMBER, "sample_counter": SAMPLE_COUNTER}


@bp.route("/running-text", methods=["GET", "POST"])
@admin_page("running_text")
def running_text() -> Any:
    current = antre().run(config().settings)
    form = FormState(values={"running_text": current["running_text"]})
    if request.method == "POST":
        form.values = form_values(request.form, "running_text")
        change = attempt(form, config().update_settings, g.actor, form.values)
        if change is not None:
            flash(_("Teks berjalan disimpan; layar menampilkannya saat ini juga.") if change.changed
                  else _("Tidak ada perubahan."), "ok")
            return redirect(url_for("admin.running_text"), 303)
    return render("admin/running_text.html", 400 if form.errors else 200, form=form)


def N_(message: str) -> str:  # noqa: N802 - the usual name of the "extract, don't translate yet" marker
    return message


WEBHOOK_JS_MESSAGES = (
    N_("Belum ada webhook."), N_("Aktif"), N_("Nonaktif"), N_("Terkirim sampai peristiwa #%(n)s"),
    N_("Antrian kirim: %(n)s"), N_("Galat terakhir: %(e)s"), N_("Terakhir berhasil: %(t)s"),
    N_("Webhook ditambahkan."), N_("Memuat…"), N_("Tidak dapat memuat daftar webhook."), N_("Lancar"),
    N_("Mengirim"), N_("Mencoba lagi"), N_("Dijeda"), N_("Percobaan ke-%(n)s"), N_("Jeda"), N_("Lanjutkan"),
    N_("Hapus"), N_("Webhook dijeda."), N_("Webhook dilanjutkan."), N_("Webhook dihapus."),
    N_("Hapus webhook %(url)s? Peristiwa yang belum terkirim ke alamat ini dibuang."),
)


@bp.get("/webhooks")
@admin_page("webhooks")
def webhooks() -> Any:
    return render("admin/webhooks.html", messages=js_messages(WEBHOOK_JS_MESSAGES))
