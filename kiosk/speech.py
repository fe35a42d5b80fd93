"""Speech mode of the kiosk: WAV audio of the page's own texts, made offline on the server.

The page asks for audio by *key*, never by text, so the route cannot be made
to say anything else (nor to burn CPU on arbitrary input).  Keys:

``ui.NAME``          a text of :data:`kiosk.texts.TEXTS`
``service.ID``       a service's name (``tenant.ID``, ``counter.ID`` alike)
``count.N``          a number 0-9999, in words
``number.A012``      a ticket number, read as the call-outs read it ("A, dua belas")
``time.HHMM``        a time of day ("pukul delapan tiga puluh")

Each clip is synthesized once per language and voice, and cached on disk
in the data dir (``cache/kiosk-speech``), named by a hash of the voice's
fingerprint and the text.  The page's texts and the names are prepared in the
background at start-up; anything else on first use.  A request may join a few
clips into one WAV, so a focused option is read in one go.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask_babel import force_locale, gettext

from antre.blocking import call_blocking, sleep, spawn
from antre.store import Store
from kiosk.texts import TEXTS

log = logging.getLogger("antre.kiosk.speech")

LANGS = ("id", "en")
MAX_KEYS = 8
KEY_RE = re.compile(
    r"^(?:ui\.[a-z0-9_]{1,40}|(?:service|tenant|counter)\.[1-9][0-9]{0,8}|count\.(?:0|[1-9][0-9]{0,3})"
    r"|number\.[A-Z]{1,3}[0-9]{1,5}|time\.(?:[01][0-9]|2[0-3])[0-5][0-9])$"
)
GAP_SECONDS = 0.18
NAMES_TTL = 60.0


class UnknownKey(ValueError):
    """A key the kiosk does not speak."""


class KioskSpeech:
    """Clip cache and joiner (blocking: run it off the event loop)."""

    def __init__(self, store: Store, cache_dir: Path, synth_factory: Callable[[], Any]) -> None:
        self.store = store
        self.cache_dir = Path(cache_dir)
        self._synth_factory = synth_factory
        self._synth: Any = None
        self._lock = threading.Lock()  # a gevent lock under gevent: held across cooperative waits
        self._key_locks: dict[str, Any] = {}
        self._names: dict[str, dict[int, tuple[str, str]]] = {}
        self._names_at = 0.0
        self._texts: dict[str, dict[str, str]] = {}
        self.preparing = False
        self.prepared = 0

    # ------------------------------------------------------------------- texts

    def _synthesizer(self) -> Any:
        if self._synth is None:
            synth = self._synth_factory()
            with self._lock:
                if self._synth is None:
                    self._synth = synth
        return self._synth

    def _load_names(self) -> dict[str, dict[int, tuple[str, str]]]:
        if self._names and time.monotonic() - self._names_at < NAMES_TTL:
            return self._names
        with self.store.read() as db:
            names = {
                "service": {r[0]: (r[1], r[2]) for r in db.conn.execute(
                    "SELECT id, name_id, name_en FROM services WHERE active = 1")},
                "tenant": {r[0]: (r[1], r[2]) for r in db.conn.execute(
                    "SELECT id, name_id, name_en FROM tenants WHERE active = 1")},
                "counter": {r[0]: (r[1], r[1]) for r in db.conn.execute("SELECT id, name FROM counters")},
            }
        self._names, self._names_at = names, time.monotonic()
        return names

    def ui_texts(self, lang: str) -> dict[str, str]:
        """The page's texts in ``lang`` (needs an app context the first time)."""
        if lang not in self._texts:
            with force_locale(lang):
                self._texts[lang] = {key: gettext(msgid) for key, msgid in TEXTS.items()}
        return self._texts[lang]

    def text_for(self, key: str, lang: str) -> str:
        """What a key says in ``lang``; :class:`UnknownKey` for anything not on the list."""
        from speech.numbers import number_words, spell_letters

        if lang not in LANGS or not KEY_RE.match(key):
            raise UnknownKey(key)
        kind, _, value = key.partition(".")
        if kind == "ui":
            texts = self._texts.get(lang)
            if texts is None or value not in texts:
                raise UnknownKey(key)
            return texts[value]
        if kind in ("service", "tenant", "counter"):
            entry = self._load_names()[kind].get(int(value))
            if entry is None:
                raise UnknownKey(key)
            return entry[0] if lang == "id" else entry[1]
        if kind == "count":
            return number_words(int(value), lang)
        if kind == "number":
            match = re.fullmatch(r"([A-Z]+)([0-9]+)", value)
            assert match is not None
            letters = " ".join(spell_letters(match.group(1), lang))
            return f"{letters}, {number_words(int(match.group(2)), lang)}"
        hours, minutes = int(value[:2]), int(value[2:])
        if lang == "id":
            spoken = f"pukul {number_words(hours, 'id')}"
            return spoken + (f" {number_words(minutes, 'id')}" if minutes else "")
        return f"{number_words(hours, 'en')}" + (f" {number_words(minutes, 'en')}" if minutes else " o'clock")

    # ------------------------------------------------------------------- audio
    #
    # Under gevent, synthesis must run on the event loop's own thread: espeak-ng
    # is a subprocess, and gevent watches child processes on the default loop
    # only ("child watchers are only available on the default loop" in a pool
    # thread).  There it is cooperative: the loop goes on while espeak-ng works.
    # The database reads and the joining run in the thread pool.

    def texts(self, keys: list[str], lang: str) -> list[str]:
        """What each key says; :class:`UnknownKey` for the whole list if any one is unknown (blocking)."""
        if not keys or len(keys) > MAX_KEYS:
            raise UnknownKey(",".join(keys))
        return [self.text_for(key, lang) for key in keys]

    def clip_path(self, text: str, lang: str) -> Path:
        """The cached WAV of one text, synthesized on first use (see the note above)."""
        synth = self._synthesizer()
        digest = hashlib.sha256(f"{synth.fingerprint(lang)}\n{lang}\n{text}".encode()).hexdigest()[:32]
        path = self.cache_dir / f"{digest}.wav"
        if path.exists() and path.stat().st_size > 44:
            return path
        with self._lock:
            key_lock = self._key_locks.setdefault(digest, threading.Lock())
        with key_lock:
            if path.exists() and path.stat().st_size > 44:
                return path
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{time.monotonic_ns()}.tmp")
            try:
                synth.synthesize(text, lang, tmp)
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
        return path

    @staticmethod
    def join(paths: list[Path]) -> bytes:
        """One WAV of several clips, with short pauses between them (blocking)."""
        from speech import audio

        pieces = [audio.read_wav(path) for path in paths]
        joined = audio.concatenate(pieces, GAP_SECONDS)[0] if len(pieces) > 1 else pieces[0]
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(joined.rate)
            out.writeframes(joined.samples.tobytes())
        return buffer.getvalue()

    def speak(self, keys: list[str], lang: str) -> bytes:
        """The WAV of ``keys``: texts and joining off the loop, synthesis on it (call from the loop)."""
        texts = call_blocking(self.texts, keys, lang)
        paths = [self.clip_path(text, lang) for text in texts]
        return call_blocking(self.join, paths)

    def keys_to_prepare(self, langs: tuple[str, ...] = LANGS) -> list[tuple[str, str]]:
        """Every page text and name, in each language: what start-up prepares ahead of use."""
        names = self._load_names()
        out = []
        for lang in langs:
            out += [(f"ui.{k}", lang) for k in self.ui_texts(lang)]
            out += [(f"{kind}.{i}", lang) for kind in ("tenant", "service", "counter") for i in names[kind]]
        return out

    def start_preparing(self) -> None:
        """Prepare every clip in the background, once (called on the first use of speech mode)."""
        with self._lock:
            if self.preparing:
                return
            self.preparing = True
        spawn(self._prepare_all, name="antre-kiosk-speech")

    def _prepare_all(self) -> None:
        try:
            keys = call_blocking(self.keys_to_prepare)
        except Exception:  # noqa: BLE001 - speech is a help, never a reason to stop
            log.exception("kiosk speech: cannot list the clips to prepare")
            return
        for key, lang in keys:
            try:
                (text,) = call_blocking(self.texts, [key], lang)
                self.clip_path(text, lang)
                self.prepared += 1
            except UnknownKey:
                continue
            except Exception:  # noqa: BLE001
                log.exception("kiosk speech: cannot prepare %s (%s); stopping", key, lang)
                return
            sleep(0.005)  # leave room for the call-outs and the requests
        log.info("kiosk speech: %d clips ready", self.prepared)
