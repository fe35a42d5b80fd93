"""Waiting-room displays, the small screen above each counter, and the call audio.

Pages (device pages: paired once with ``?token=``, see :mod:`web.pages`):

* ``/display`` (optionally ``?zone=NAME``, ``?lang=en``): the waiting-room TV.
* ``/display/counter/<id>``: the small display above a counter.

JSON and files for those pages (a display's bearer token, its paired browser,
or a staff session; 401/403/404 JSON otherwise):

* ``/display/audio/<key>.wav[?t=TICKET_ID]``: the prepared WAV of a call
  (chime + sentence), the ``audio_url`` of ``ticket:called``; made on demand
  when it is not ready yet.  ``/display/audio/chime.wav`` is the chime alone.
* ``/display/config``: voice output settings, running text and media list.
* ``/display/calls/<event_id>``: one past call with its announcement, for a
  display catching up after a lost connection.
* ``/display/media/<name>``: videos and images from ``DATA_DIR/media``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request, send_file, send_from_directory

from antre.announce import Announcer, call_event, call_of_ticket
from antre.blocking import call_blocking
from web.auth import device_principal, require
from web.context import Antre, antre
from web.errors import ApiError
from web.i18n import js_messages
from web.pages import device_page, page_lang

ROOT = Path(__file__).resolve().parent.parent
bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/display")

DISPLAY_ROLES = ("display",)
COUNTER_SCREEN_ROLES = ("display", "counter")
API_ROLES = ("display", "counter")  # "counter" admits counter, supervisor and admin
MEDIA_TYPES = {
    ".mp4": "video", ".webm": "video", ".ogv": "video", ".m4v": "video",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".webp": "image", ".gif": "image",
}
MAX_MEDIA_FILES = 50
MAX_ID = 2**62  # as the id path converter: anything larger is not a row id
#: messages the display scripts need in both languages
JS_MESSAGES = [
    "Nomor antrian", "Silakan menuju", "Terhubung", "Terputus — mencoba menghubungkan kembali…",
    "Belum ada panggilan", "Menunggu", "Istirahat", "Dipanggil", "Dilayani", "Panggilan ulang", "Panggilan baru",
    "Halaman %(page)s dari %(pages)s", "Tidak ada yang menunggu",
]


def announcer() -> Announcer:
    return antre().extras["announcer"]


def _zones() -> list[str]:
    return call_blocking(antre().queue.zones)


def _mpp_name() -> str:
    app_antre = antre()

    def read() -> str:
        with app_antre.store.read() as db:
            return str(app_antre.store.get_setting(db, "mpp_name", "Mal Pelayanan Publik"))

    return call_blocking(read)


def _page_context(**extra: Any) -> dict[str, Any]:
    lang = page_lang()
    return {"lang": lang, "mpp_name": _mpp_name(), "tz": antre().settings.tz,
            "messages": js_messages(JS_MESSAGES), **extra}


def _paired(roles: tuple[str, ...]) -> bool:
    """Whether this browser may see the page (so that it may also learn what does not exist)."""
    try:
        return device_principal(roles) is not None
    except ApiError:
        return False


@bp.get("/display")
def display_page() -> Any:
    zone = request.args.get("zone") or None
    if zone is not None and "token" not in request.args and _paired(DISPLAY_ROLES) and zone not in _zones():
        return render_template("display/unknown_zone.html", zone=zone, zones=_zones(), lang=page_lang()), 404
    return device_page("display/display.html", DISPLAY_ROLES, **_page_context(zone=zone))


@bp.get("/display/counter/<id:counter_id>")
def counter_page(counter_id: int) -> Any:
    from antre.rules import NotFound

    try:
        counter = call_blocking(antre().queue.counter, counter_id)
    except NotFound:
        if "token" in request.args or not _paired(COUNTER_SCREEN_ROLES):
            return device_page("display/counter.html", COUNTER_SCREEN_ROLES)  # pairs, or says how to
        return render_template("display/unknown_counter.html", counter_id=counter_id, lang=page_lang()), 404
    return device_page("display/counter.html", COUNTER_SCREEN_ROLES,
                       **_page_context(counter={"id": counter["id"], "name": counter["name"]}))


@bp.get("/display/audio/<name>.wav")
@require(*API_ROLES)
def audio(name: str) -> Any:
    ticket_id = _int_arg("t")
    app_antre = antre()

    def call() -> tuple[str, str] | None:
        return None if ticket_id is None else call_blocking(call_of_ticket, app_antre.store, ticket_id)

    try:
        path = announcer().audio_path(name, call)
    except Exception as exc:  # noqa: BLE001 - synthesis failed: a clear 503, never a 500
        from speech.synth import SynthesisError

        if isinstance(exc, SynthesisError | OSError):
            raise ApiError(503, "audio_unavailable",
                           "Suara panggilan tidak dapat dibuat. (The call audio could not be made.)") from exc
        raise
    if path is None:
        raise ApiError(404, "audio_not_found", "Suara panggilan tidak ditemukan. (No such call audio.)")
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/display/config")
@require(*API_ROLES)
def config() -> Any:
    return jsonify(_config_payload())


def _config_payload() -> dict[str, Any]:
    app_antre = antre()
    voice = announcer().config(fresh=True)

    def read() -> str:
        with app_antre.store.read() as db:
            return str(app_antre.store.get_setting(db, "running_text", "") or "")

    return {
        **voice.public(),
        "chime_url": "/display/audio/chime.wav",
        "running_text": call_blocking(read),
        "media": call_blocking(media_files, app_antre.settings.data_dir / "media"),
    }


@bp.get("/display/calls/<id:event_id>")
@require(*API_ROLES)
def call(event_id: int) -> Any:
    app_antre = antre()
    found = call_blocking(call_event, app_antre.store, event_id)
    if found is None:
        raise ApiError(404, "call_not_found", "Panggilan tidak ditemukan. (No such call.)")
    ticket, counter = found["ticket"], found["counter"]
    found["announcement"] = announcer().describe(ticket, {"counter": counter})
    found["number"] = ticket["number"]
    return jsonify(found)


@bp.get("/display/media/<path:name>")
@require(*API_ROLES)
def media(name: str) -> Any:
    folder = antre().settings.data_dir / "media"
    if Path(name).suffix.lower() not in MEDIA_TYPES or "/" in name or name.startswith("."):
        raise ApiError(404, "media_not_found", "Berkas media tidak ditemukan. (No such media file.)")
    try:
        return send_from_directory(folder, name, conditional=True, max_age=3600)
    except Exception as exc:  # werkzeug NotFound
        raise ApiError(404, "media_not_found", "Berkas media tidak ditemukan. (No such media file.)") from exc


def media_files(folder: Path) -> list[dict[str, str]]:
    """Videos and images in ``folder`` (sorted by name; hidden files skipped)."""
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for p in entries:
        kind = MEDIA_TYPES.get(p.suffix.lower())
        if kind and "/" not in p.name:
            out.append({"url": "/display/media/" + p.name, "kind": kind, "name": p.name})
        if len(out) >= MAX_MEDIA_FILES:
            break
    return out


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ApiError(400, "invalid_" + name, f"Parameter {name} harus bilangan bulat positif. "
                       f"({name} must be a positive integer.)")
    return int(raw)


def init_app(app: Flask, app_antre: Antre) -> None:
    """Create the announcer, hook it into ``ticket:called`` and prepare audio ahead."""
    settings = app_antre.settings
    instance = Announcer(app_antre.store, settings.data_dir, ROOT / "sounds", settings.public_url,
                         today=app_antre.queue.today, background=settings.background)
    app_antre.extras["announcer"] = instance
    publisher = app_antre.extras.get("publisher")
    if publisher is not None:
        publisher.announce = instance.announce
        # After an admin change: new voice settings, counters or clips take effect at once.
        hooks = getattr(publisher, "config_listeners", None)
        if isinstance(hooks, list):
            hooks.append(lambda what: instance.reload())
    app_antre.listeners.append(instance.on_outcome)
    if settings.background:
        from antre.blocking import spawn

        spawn(instance.warm_up, name="antre-speech-warm-up")


def _add_openapi() -> None:
    """Describe the display's JSON and audio routes in ``/openapi.json``."""
    from api.openapi import add_operation, path_param, query_param

    who = "a display token or paired display, a counter/supervisor/admin token or session"
    add_operation(
        "/display/audio/{name}.wav", "get", summary="The audio of a call (chime + sentence), WAV", roles=who,
        errors=(404, 503),
        params=[path_param("name", {"type": "string", "pattern": "^([0-9a-f]{64}|chime)$"}),
                query_param("t", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                            "The called ticket: lets the server make audio that is not ready yet.")],
        ok_content={"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        description="The `audio_url` of `ticket:called`; `chime` is the chime alone. 404 `audio_not_found`; "
                    "503 `audio_unavailable` when no speech backend can make it.",
    )
    add_operation(
        "/display/config", "get", summary="Voice output, running text and media of the displays", roles=who,
        ok_schema={"type": "object", "required": ["audio_output", "repeats", "lang", "chime", "chime_url",
                                                  "running_text", "media"],
                   "properties": {
                       "audio_output": {"enum": ["browser", "server"]},
                       "repeats": {"type": "integer", "minimum": 1, "maximum": 5},
                       "lang": {"enum": ["id", "en"]}, "chime": {"type": "boolean"},
                       "chime_url": {"type": "string"}, "running_text": {"type": "string"},
                       "media": {"type": "array", "items": {
                           "type": "object", "required": ["url", "kind", "name"],
                           "properties": {"url": {"type": "string"}, "kind": {"enum": ["video", "image"]},
                                          "name": {"type": "string"}}}}}},
    )
    add_operation(
        "/display/calls/{id}", "get", summary="One past call and its announcement (display catch-up)", roles=who,
        params=[path_param("id")],
        ok_schema={"type": "object", "required": ["event_id", "recall", "at", "ticket", "counter", "number",
                                                  "announcement"],
                   "properties": {
                       "event_id": {"type": "integer"}, "recall": {"type": "boolean"}, "at": {"type": "string"},
                       "number": {"type": "string"}, "ticket": {"$ref": "#/components/schemas/Ticket"},
                       "counter": {"type": "object", "required": ["id", "name", "zone"]},
                       "announcement": {"type": "object", "required": ["text", "audio_url"],
                                        "properties": {"text": {"type": "string"},
                                                       "audio_url": {"type": "string"}}}}},
        description="404 `call_not_found` unless the id is a `ticket.called` or `ticket.recalled` event.",
    )


_add_openapi()
