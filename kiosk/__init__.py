"""The ticket kiosk: the touchscreen page at ``/kiosk``, kiosk ticket printing and the print agent.

* :mod:`kiosk.views`: the page, the QR code of a ticket (SVG), speech-mode audio;
* :mod:`kiosk.api`: REST routes of printing (the page's fallback poll, the
  print agent, admin), described in OpenAPI;
* :mod:`kiosk.print_service`: ticket -> print job -> printer, off the request path;
* :mod:`kiosk.agent`: ``python server.py print-agent``, run on a kiosk's own Pi;
* :mod:`antre.printjobs`: the durable print spool underneath.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from kiosk import api, views  # noqa: F401 - their routes register on bp
from kiosk.blueprint import bp
from kiosk.print_service import KioskPrinting
from kiosk.speech import KioskSpeech
from web.context import Antre

__all__ = ["bp", "init_app"]

log = logging.getLogger("antre.kiosk")
DEFAULT_SPEECH_BACKEND = "espeak"


def init_app(app: Flask, app_antre: Antre) -> None:
    printing = KioskPrinting(app_antre)
    app_antre.extras["kiosk_printing"] = printing
    app.after_request(printing.after_request)

    def synthesizer() -> Any:
        # espeak-ng in a subprocess by default: the single pyttsx3 engine of the
        # process stays free for the call-outs, which must never wait.
        from speech.synth import create_synthesizer

        backend = app_antre.setting("kiosk.speech_backend", DEFAULT_SPEECH_BACKEND)
        return create_synthesizer(backend if isinstance(backend, str) else DEFAULT_SPEECH_BACKEND)

    speech = KioskSpeech(app_antre.store, app_antre.settings.data_dir / "cache" / "kiosk-speech", synthesizer)
    with app.app_context():
        for lang in ("id", "en"):
            speech.ui_texts(lang)
    app_antre.extras["kiosk_speech"] = speech
    if app_antre.settings.background:
        printing.start(app)
