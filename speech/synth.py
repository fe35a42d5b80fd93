"""Speech synthesizers, chosen by name from the configuration.

Backends:

``pyttsx3``
    The real one: pyttsx3 drives espeak-ng in-process on Linux (SAPI5 on
    Windows).  pyttsx3 engines are not thread safe and pyttsx3 keeps one
    engine per driver per process, so every instance of this backend shares
    ONE engine living in ONE dedicated thread (:class:`SingleThreadWorker`).
    Each call does one ``save_to_file`` and one ``runAndWait`` and then waits
    for the WAV to exist and stop growing: the first ``runAndWait`` of a fresh
    process can return before the file is written.
``espeak``
    ``espeak-ng -v id -w FILE`` in a subprocess with a timeout.  Used when
    pyttsx3 cannot start, and by the pyttsx3 backend on Linux as a per-call
    fallback (the same espeak-ng voice) when its engine is stuck.
``tone``
    NOT speech: a short beep per word, pitched by the word and long by its
    syllables, with a pause at each comma.  For a machine with no speech
    synthesizer at all, so a call is still heard as *something* alongside
    the visual flash on the displays.  Deterministic.

:func:`create_synthesizer` builds the configured backend and, when it cannot
start, the next one of its fallback chain (pyttsx3, espeak, tone).
"""

from __future__ import annotations

import atexit
import functools
import logging
import re
import shutil
import subprocess
import sys
import threading
import time
import zlib
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from antre.blocking import SingleThreadWorker
from speech import audio, proc
from speech.numbers import LANGS

log = logging.getLogger(__name__)

DEFAULT_RATE = 150  # words per minute; espeak-ng's 175 is hurried for a hall
DEFAULT_VOICES: dict[str, str] = {"id": "id", "en": "en"}
MAX_TEXT_CHARS = 1000


class SynthesisError(RuntimeError):
    """Speech could not be made (backend missing, stuck, or wrote no audio)."""


class EmptyWavError(SynthesisError):
    """The synthesizer finished a WAV that holds no samples."""


class Synthesizer(ABC):
    """Turns a sentence into a WAV file."""

    name: str = "?"

    @abstractmethod
    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        """Write ``text`` spoken in ``lang`` to ``out_path`` (WAV); return the path.

        Raises :class:`SynthesisError` on any failure.
        """

    @abstractmethod
    def fingerprint(self, lang: str) -> str:
        """Identifies the voice that would speak ``lang`` (backend, voice, rate).

        Part of every cache key: changing the voice makes new audio.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds."""

    def _check(self, text: str, lang: str) -> None:
        if lang not in LANGS:
            raise SynthesisError(f"unsupported language {lang!r}")
        if not text or not text.strip():
            raise SynthesisError("nothing to say: empty text")
        if len(text) > MAX_TEXT_CHARS:
            raise SynthesisError(f"text longer than {MAX_TEXT_CHARS} characters")


def _valid_wav(path: Path) -> bool:
    try:
        return audio.read_wav_info(path).frames > 0
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- espeak


@functools.lru_cache(maxsize=4)
def _espeak_version(binary: str) -> str:
    try:
        out = proc.run([binary, "--version"], timeout=3).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"\d+\.\d+(\.\d+)?", out)
    return match.group(0) if match else "unknown"


def find_espeak() -> str | None:
    """Path of espeak-ng (or the older espeak), or None."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


class EspeakSynthesizer(Synthesizer):
    """espeak-ng in a subprocess, one per sentence (about 20 ms here)."""

    name = "espeak"

    def __init__(
        self,
        rate: int = DEFAULT_RATE,
        voices: dict[str, str] | None = None,
        timeout: float = 10.0,
        binary: str | None = None,
        **_ignored: Any,
    ) -> None:
        found = binary or find_espeak()
        if not found:
            raise SynthesisError("espeak-ng is not installed (apt-get install espeak-ng)")
        self.binary = found
        self.rate = int(rate)
        self.voices = {**DEFAULT_VOICES, **(voices or {})}
        self.timeout = timeout
        self.version = _espeak_version(found)  # now, not on a request's path

    def fingerprint(self, lang: str) -> str:
        return f"espeak-ng {self.version}|voice={self.voices.get(lang)}|rate={self.rate}"

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        self._check(text, lang)
        out_path = Path(out_path)
        out_path.unlink(missing_ok=True)
        cmd = [
            self.binary, "-v", self.voices[lang], "-s", str(self.rate),
            "-w", str(out_path), "--stdin",
        ]  # fmt: skip
        try:
            # Text on stdin: a sentence starting with "-" is not an option.
            done = proc.run(cmd, self.timeout, text.encode("utf-8"))
        except subprocess.TimeoutExpired:
            out_path.unlink(missing_ok=True)
            raise SynthesisError(f"espeak-ng took longer than {self.timeout} s") from None
        except OSError as exc:
            raise SynthesisError(f"cannot run espeak-ng: {exc}") from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()
            raise SynthesisError(f"espeak-ng failed ({done.returncode}): {err}")
        if not _valid_wav(out_path):
            raise SynthesisError("espeak-ng wrote no audio")
        return out_path


# --------------------------------------------------------------------------- pyttsx3


def _quiet_espeak_driver() -> None:
    """Send pyttsx3's espeak driver's "Audio saved to ..." prints to the log.

    The driver calls ``print`` on every saved file, which would fill the
    server's stdout; its module-level name ``print`` is pointed at a logger.
    """
    module = sys.modules.get("pyttsx3.drivers.espeak")
    if module is not None and not hasattr(module, "_antre_quiet"):
        driver_log = logging.getLogger("pyttsx3.drivers.espeak")
        module.print = lambda *args, **_kw: driver_log.debug(" ".join(map(str, args)))  # type: ignore[attr-defined]
        module._antre_quiet = True  # type: ignore[attr-defined]


class _Pyttsx3Host:
    """The process's single pyttsx3 engine and the single thread that owns it.

    Methods named ``*_in_worker`` run in that thread only.
    """

    def __init__(self) -> None:
        self.worker = SingleThreadWorker("antre-pyttsx3")
        self.engine: Any = None
        self.driver = ""
        self.stuck_since: float | None = None
        self.synchronize: Callable[[], Any] | None = None
        self.current: dict[str, Any] = {}

    def init_in_worker(self, driver: str | None) -> str:
        if self.engine is not None:
            return self.driver
        import pyttsx3

        engine = pyttsx3.init(driver) if driver else pyttsx3.init()
        self.engine = engine
        self.driver = getattr(engine, "driver_name", driver or "default")
        if self.driver == "espeak":
            from pyttsx3.drivers import _espeak

            self.synchronize = _espeak.Synchronize
            _quiet_espeak_driver()
        return self.driver

    def voice_in_worker(self, lang: str, wanted: str) -> str:
        """Voice id for ``lang``: an exact id/name match, else one listing the language."""
        voices = self.engine.getProperty("voices") or []
        for v in voices:
            if wanted in (v.id, v.name) or str(v.id).endswith("/" + wanted):
                return str(v.id)
        for v in voices:
            langs = [str(x).lower().replace("_", "-") for x in (v.languages or [])]
            if any(x == lang or x.startswith(lang + "-") for x in langs):
                return str(v.id)
        if self.driver == "espeak":
            return wanted  # espeak-ng takes a language name directly
        raise SynthesisError(f"pyttsx3 ({self.driver}) has no voice for {lang!r}")

    def apply_in_worker(self, voice: str, rate: int) -> None:
        """Set voice and rate so that they hold for the next sentence.

        With the espeak driver, ``engine.setProperty`` only runs inside the
        next ``runAndWait``, just before that call's ``stop()``, which
        cancels espeak-ng's queue if it is busy; espeak-ng queues a rate
        change.  Measured: the first sentence of a process was sometimes
        spoken at the old rate (3.4 s instead of 4.7 s, 1 process in 25).
        The driver's setters are therefore called directly and espeak-ng is
        waited for (0 in 40 processes and 200 sentences since).
        """
        if self.current.get("voice") == voice and self.current.get("rate") == rate:
            return
        self.current.clear()
        if self.synchronize is not None:
            driver = self.engine.proxy._driver  # pyttsx3 2.99 EspeakDriver
            driver.setProperty("voice", voice)
            driver.setProperty("rate", rate)
            self.synchronize()
        else:
            self.engine.setProperty("voice", voice)
            self.engine.setProperty("rate", rate)
        self.current.update(voice=voice, rate=rate)

    def run_in_worker(self, text: str, out_path: Path, wait_s: float) -> Path:
        out_path.unlink(missing_ok=True)
        # One file per runAndWait: two save_to_file calls before one
        # runAndWait write only the second file.
        self.engine.save_to_file(text, str(out_path))
        try:
            self.engine.runAndWait()
        except Exception as exc:
            # runAndWait leaves the engine "in loop" when it raises; without this
            # reset every later call fails with "run loop already started".
            self.engine._inLoop = False
            self.current.clear()
            raise SynthesisError(f"pyttsx3 failed: {exc}") from exc
        # runAndWait returns once synthesis has *started*: espeak-ng runs in
        # its own thread, and the driver's callback writes the WAV at the end
        # and then resets the driver's state.  A next sentence started before
        # that callback returns gets wiped by the reset (measured: empty
        # WAVs).  espeak_Synchronize returns once espeak-ng's thread is idle.
        if self.synchronize is not None:
            self.synchronize()
        return _wait_for_wav(out_path, wait_s, settled=self.synchronize is not None)

    def synth_in_worker(
        self, text: str, voice: str, rate: int, out_path: Path, wait_s: float
    ) -> Path:
        self.apply_in_worker(voice, rate)
        try:
            return self.run_in_worker(text, out_path, wait_s)
        except EmptyWavError:
            log.warning("pyttsx3 wrote an empty WAV; trying once more")
            self.current.clear()
            self.apply_in_worker(voice, rate)
            return self.run_in_worker(text, out_path, wait_s)


def _wait_for_wav(
    path: Path, wait_s: float, poll_s: float = 0.005, settled: bool = False
) -> Path:
    """Wait until ``path`` is a complete WAV whose size has stopped changing.

    ``settled`` means the writer should be done (espeak_Synchronize has
    returned): one unchanged size over a 2 ms look is then enough.  Raises
    :class:`EmptyWavError` at once for a finished WAV with no samples and
    :class:`SynthesisError` after ``wait_s``.
    """
    deadline = time.monotonic() + wait_s
    if settled:
        poll_s = min(poll_s, 0.002)
    last_size = -1
    stable = 0
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = -1
        if size >= 44 and size == last_size:
            stable += 1
            if stable >= (1 if settled else 2):
                try:
                    frames = audio.read_wav_info(path).frames
                except (OSError, ValueError):
                    frames = -1
                if frames > 0:
                    return path
                if frames == 0:
                    raise EmptyWavError(f"pyttsx3 wrote an empty WAV ({path.name})")
        else:
            stable = 0
        last_size = size
        if time.monotonic() > deadline:
            raise SynthesisError(
                f"pyttsx3 wrote no complete WAV within {wait_s} s ({path.name}, size {size})"
            )
        time.sleep(poll_s)


_HOST: _Pyttsx3Host | None = None
_HOST_LOCK = threading.Lock()


def _host() -> _Pyttsx3Host:
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = _Pyttsx3Host()
            atexit.register(_release_engine)
        return _HOST


def _release_engine() -> None:
    """Drop the engine while the interpreter is still whole.

    Left to interpreter teardown, pyttsx3's ``DriverProxy.__del__`` runs
    after its module globals are gone and prints a traceback on every exit.
    """
    host = _HOST
    if host is not None:
        host.engine = None
        host.worker.close()


class Pyttsx3Synthesizer(Synthesizer):
    """pyttsx3 in its one worker thread (see the module docstring)."""

    name = "pyttsx3"

    def __init__(
        self,
        rate: int = DEFAULT_RATE,
        voices: dict[str, str] | None = None,
        timeout: float = 15.0,
        driver: str | None = None,
        espeak_fallback: bool = True,
        **_ignored: Any,
    ) -> None:
        self.rate = int(rate)
        self.voices = {**DEFAULT_VOICES, **(voices or {})}
        self.timeout = timeout
        self.host = _host()
        try:
            self.driver = self.host.worker.call(self.host.init_in_worker, driver, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any init failure means "use a fallback"
            raise SynthesisError(f"pyttsx3 cannot start: {exc!r}") from exc
        self._voice_ids: dict[str, str] = {}
        self.engine_label = self.driver
        if self.driver == "espeak":
            binary = find_espeak()
            self.engine_label += f" espeak-ng {_espeak_version(binary) if binary else 'lib'}"
        # On Linux pyttsx3 *is* espeak-ng; the CLI speaks with the same voice,
        # so it may stand in for a stuck engine without changing the sound.
        self._cli: EspeakSynthesizer | None = None
        if espeak_fallback and self.driver == "espeak" and find_espeak():
            self._cli = EspeakSynthesizer(rate=self.rate, voices=self.voices)

    def _voice(self, lang: str) -> str:
        if lang not in self._voice_ids:
            self._voice_ids[lang] = self.host.worker.call(
                self.host.voice_in_worker, lang, self.voices[lang], timeout=self.timeout
            )
        return self._voice_ids[lang]

    def fingerprint(self, lang: str) -> str:
        return f"pyttsx3 {self.engine_label}|voice={self.voices.get(lang)}|rate={self.rate}"

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        self._check(text, lang)
        out_path = Path(out_path)
        if self.host.stuck_since is not None and self._cli is not None:
            return self._cli.synthesize(text, lang, out_path)
        try:
            voice = self._voice(lang)
            result = self.host.worker.call(
                self.host.synth_in_worker, text, voice, self.rate, out_path, self.timeout / 2,
                timeout=self.timeout,
            )  # fmt: skip
        except TimeoutError as exc:
            # The engine thread is wedged inside espeak; every later call would
            # queue behind it.  Remember that and use the CLI from now on.
            self.host.stuck_since = time.monotonic()
            log.error("pyttsx3 engine stuck: %s", exc)
            if self._cli is not None:
                return self._cli.synthesize(text, lang, out_path)
            raise SynthesisError(f"pyttsx3 engine stuck: {exc}") from exc
        except SynthesisError:
            if self._cli is not None:
                log.warning("pyttsx3 failed; using espeak-ng for this sentence", exc_info=True)
                return self._cli.synthesize(text, lang, out_path)
            raise
        return result


# --------------------------------------------------------------------------- tone

_TONE_SCALE = (523.25, 587.33, 659.25, 783.99, 880.0)  # C major pentatonic, C5-A5
_WORD_RE = re.compile(r"[^\W_]+|[,.;:!?]")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


class ToneSynthesizer(Synthesizer):
    """Not speech: one beep per word (see the module docstring)."""

    name = "tone"

    def __init__(self, level: float = 0.4, **_ignored: Any) -> None:
        self.level = level

    def fingerprint(self, lang: str) -> str:
        return f"tone 1|level={self.level}"

    def render(self, text: str) -> audio.Audio:
        pieces: list[audio.Audio] = []
        gaps: list[float] = []
        pending_gap = 0.0
        for piece in _WORD_RE.findall(text):
            if piece in ",.;:!?":
                pending_gap = 0.25
                continue
            word = piece.lower()
            syllables = min(4, max(1, len(_VOWEL_GROUPS.findall(word))))
            freq = _TONE_SCALE[zlib.crc32(word.encode("utf-8")) % len(_TONE_SCALE)]
            if pieces:
                gaps.append(max(0.06, pending_gap))
            pieces.append(audio.tone(freq, 0.06 + 0.05 * syllables, self.level))
            pending_gap = 0.0
        if not pieces:
            return audio.Audio(array("h"))
        return audio.concatenate(pieces, gaps)[0]

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        self._check(text, lang)
        rendered = self.render(text)
        if not rendered.samples:
            raise SynthesisError(f"no words to beep in {text!r}")
        try:
            return audio.write_wav(Path(out_path), rendered)
        except OSError as exc:
            raise SynthesisError(f"cannot write {out_path}: {exc}") from exc


# --------------------------------------------------------------------------- registry

_BACKENDS: dict[str, Callable[..., Synthesizer]] = {}
FALLBACKS: dict[str, tuple[str, ...]] = {
    "pyttsx3": ("espeak", "tone"),
    "espeak": ("tone",),
    "tone": (),
}


def register_backend(name: str, factory: Callable[..., Synthesizer]) -> None:
    """Make a backend available to :func:`create_synthesizer` under ``name``."""
    _BACKENDS[name] = factory


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def create_synthesizer(name: str = "pyttsx3", *, fallback: bool = True, **options: Any) -> Synthesizer:
    """The backend ``name``, or when it cannot start the first of its fallbacks that can.

    ``options`` (``rate``, ``voices``, ``timeout``, ...) go to every backend tried.
    """
    if name not in _BACKENDS:
        raise ValueError(f"unknown speech backend {name!r}; known: {', '.join(backend_names())}")
    chain = [name, *(FALLBACKS.get(name, ()) if fallback else ())]
    errors: list[str] = []
    for candidate in chain:
        try:
            synth = _BACKENDS[candidate](**options)
        except SynthesisError as exc:
            errors.append(f"{candidate}: {exc}")
            log.warning("speech backend %s unavailable: %s", candidate, exc)
            continue
        if candidate != name:
            log.warning("speech backend %s unavailable; using %s", name, candidate)
        return synth
    raise SynthesisError("no speech backend could start: " + "; ".join(errors))


register_backend("pyttsx3", Pyttsx3Synthesizer)
register_backend("espeak", EspeakSynthesizer)
register_backend("tone", ToneSynthesizer)

__all__ = [
    "DEFAULT_RATE",
    "EspeakSynthesizer",
    "Pyttsx3Synthesizer",
    "SynthesisError",
    "Synthesizer",
    "ToneSynthesizer",
    "backend_names",
    "create_synthesizer",
    "find_espeak",
    "register_backend",
]
