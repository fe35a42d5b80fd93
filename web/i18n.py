"""Bahasa Indonesia first, English second (Flask-Babel).

Message ids are the Indonesian text; each part of Antre keeps an English
catalog in ``<package>/translations/en/LC_MESSAGES/messages.po``.  The catalogs
are compiled at start-up into the data dir (the app folder may be read-only on
a Pi), and Flask-Babel merges them.  Pages that switch language without a
reload (the kiosk) get both languages of their strings through
:func:`js_messages`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request, session
from flask_babel import Babel, force_locale, gettext

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("id", "en")
log = logging.getLogger("antre.i18n")


def catalogs() -> list[Path]:
    return sorted(ROOT.glob("*/translations/en/LC_MESSAGES/messages.po"))


def compile_catalogs(target: Path) -> list[str]:
    """Compile every package's .po into ``target/<package>/``; return the dirs."""
    dirs = []
    for po in catalogs():
        package = po.parents[3].name
        out_dir = target / package
        mo = out_dir / "en" / "LC_MESSAGES" / "messages.mo"
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f, locale="en")
            tmp = mo.with_suffix(f".{os.getpid()}.tmp")  # several processes may start at once
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)
        dirs.append(str(out_dir))
    return dirs


def select_locale() -> str:
    lang = getattr(g, "lang", None) or request.args.get("lang") or session.get("lang")
    if lang in LANGS:
        return lang
    return "id"


def init_i18n(app: Flask, data_dir: Path) -> None:
    dirs = compile_catalogs(data_dir / "i18n")
    app.config["BABEL_DEFAULT_LOCALE"] = "id"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs) or str(data_dir / "i18n")
    Babel(app, locale_selector=select_locale)


def js_messages(msgids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each message in both languages, for pages that switch without a reload."""
    ids = list(msgids)
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        with force_locale(lang):
            out[lang] = {m: gettext(m) for m in ids}
    return out
