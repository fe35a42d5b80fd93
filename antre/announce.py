"""Spoken call-outs: which sentence a call gets, and which audio is prepared when.

Plain Python glue between the queue and the :mod:`speech` package (no Flask).

*Settings* live in the ``settings`` table: ``voice`` (an object, see
:data:`VOICE_DEFAULTS`; the admin pages edit it through :mod:`antre.config`)
and the top-level ``speech_backend``, ``audio_output`` and ``audio_device``
(:data:`OUTPUT_DEFAULTS`, checked by :func:`check_output_setting`).  They are
read through :func:`load_voice_config`, which never fails: a stored value that
is not valid falls back to its default (and is logged), so a bad setting can
never silence a call.  A change takes effect within :data:`CONFIG_TTL_S`, at
once after :meth:`Announcer.reload` (called on ``config_changed``).

*Preparation.*  Synthesizing and joining a sentence takes some 30 ms here
(more while a rush keeps both cores busy), so a call's audio is made long
before the call:

* a ``ticket.issued`` among the next :data:`PREPARE_AHEAD` of its queue
  queues the sentences "this number, to each open counter that serves its
  service", most urgent first (people ahead);
* every call tops up the next :data:`PREPARE_AHEAD` waiting tickets of that
  service, which also repairs what a restart, a settings change or a dropped
  backlog left out;
* a call whose audio is still not ready jumps the queue, and the audio route
  makes it on demand as the last resort.

One background greenlet works through a priority heap (bounded: under a
burst the least urgent are dropped and made later by the top-up or on
demand) and hands each sentence to the :class:`SpeechWorker` process.

*Priority.*  Preparation never delays an answer: a request only records its
events (no I/O); one planner greenlet turns them into sentences
:data:`PLAN_DELAY_S` later, after the request has answered, a whole burst at
a time; and the worker process runs below the server
(:func:`lower_priority`: ``nice`` :data:`WORKER_NICE`, ``SCHED_BATCH``), so
on a busy machine the kernel gives the CPU to the server's requests first.
A sentence costs the worker about 15 ms of CPU, most of it espeak-ng's own.
Without a worker (tests, or a worker that cannot start) the speech package
runs in this process; it keeps blocking work off the event loop itself
(pyttsx3 in its own thread, espeak-ng as a cooperative subprocess, mixing
through :func:`~antre.blocking.call_blocking`), so its calls must come from a
greenlet, never from inside ``call_blocking`` (gevent's subprocess cannot
start a child from a pool thread).

*Server output.*  With ``audio_output = "server"`` the server plays every call
on its own sound card through :class:`speech.output.AnnouncementPlayer`
(``aplay``), one after another, and the displays stay silent.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from antre.blocking import call_blocking, gevent_active, native_lock, sleep, spawn
from antre.store import Store
from speech.sentence import (
    DEFAULT_TEMPLATE_EN,
    DEFAULT_TEMPLATE_ID,
    MAX_REPEATS,
    NUMBER_STYLES,
    Announcement,
    VoiceSettings,
    build_announcement,
    validate_template,
)

log = logging.getLogger("antre.announce")

#: the ``voice`` setting (a JSON object, edited on the admin pages; see
#: :mod:`antre.config`): how calls are spoken.  ``lang`` is optional ("id").
VOICE_DEFAULTS: dict[str, Any] = {
    "lang": "id",  # language of the call: "id" or "en"
    "number_style": "whole",  # "whole" ("dua belas") or "digits" ("satu dua")
    "zero_word": "nol",  # 0 read digit by digit: "nol" or "kosong"
    "template_id": DEFAULT_TEMPLATE_ID,  # Indonesian sentence, with {number} and {counter}
    "template_en": DEFAULT_TEMPLATE_EN,  # English sentence, with {number} and {counter}
    "repeats": 1,  # how many times each call is said (1-5)
    "chime": True,  # a chime before the sentence
}
#: top-level settings of where and with what calls are made audible
OUTPUT_DEFAULTS: dict[str, Any] = {
    "speech_backend": "pyttsx3",  # "pyttsx3", "espeak" or "tone" (falls back in that order)
    "audio_output": "browser",  # "browser": the displays play calls; "server": the server's own sound output
    "audio_device": "",  # ALSA device for "server" output ("" = the default device; "null" plays nothing)
}
SPEECH_BACKENDS = ("pyttsx3", "espeak", "tone")
AUDIO_OUTPUTS = ("browser", "server")
ZERO_WORDS = ("nol", "kosong")
LANGS = ("id", "en")
CONFIG_TTL_S = 2.0
#: how many waiting tickets of a service are kept ready after each call
PREPARE_AHEAD = 3
#: most sentences waiting to be prepared; beyond, the least urgent are dropped
MAX_PENDING = 400
#: priority of a call whose audio is not ready yet (lower is sooner)
URGENT = -1
#: seconds a request's events wait before they are planned (the request answers first; a burst is planned once)
PLAN_DELAY_S = 0.05
#: how much nicer than the server the speech worker process runs
WORKER_NICE = 10
AUDIO_ROUTE = "/display/audio/"
CHIME_NAME = "chime"


@dataclass(frozen=True)
class VoiceConfig:
    """The voice settings in force: how calls sound and where they are played."""

    voice: VoiceSettings
    backend: str = "pyttsx3"
    audio_output: str = "browser"
    audio_device: str = ""

    @property
    def repeats(self) -> int:
        return self.voice.repeats

    def public(self) -> dict[str, Any]:
        """What a display needs to know (no device names)."""
        return {"audio_output": self.audio_output, "repeats": self.voice.repeats, "lang": self.voice.lang,
                "chime": self.voice.chime}


def _check_voice(key: str, value: Any) -> Any:
    if key == "lang" and value not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    if key == "number_style" and value not in NUMBER_STYLES:
        raise ValueError(f"number_style must be one of {', '.join(NUMBER_STYLES)}")
    if key == "zero_word" and value not in ZERO_WORDS:
        raise ValueError(f"zero_word must be one of {', '.join(ZERO_WORDS)}")
    if key in ("template_id", "template_en"):
        if not isinstance(value, str) or len(value) > 200:
            raise ValueError(f"{key} must be a text of at most 200 characters")
        validate_template(value)
    if key == "repeats" and (isinstance(value, bool) or not isinstance(value, int)
                             or not 1 <= value <= MAX_REPEATS):
        raise ValueError(f"repeats must be a whole number from 1 to {MAX_REPEATS}")
    if key == "chime" and not isinstance(value, bool):
        raise ValueError("chime must be true or false")
    return value


def check_output_setting(key: str, value: Any) -> Any:
    """``value`` if it is valid for output setting ``key``, else ValueError (for admin screens)."""
    if key == "speech_backend":
        if value not in SPEECH_BACKENDS:
            raise ValueError(f"speech_backend must be one of {', '.join(SPEECH_BACKENDS)}")
    elif key == "audio_output":
        if value not in AUDIO_OUTPUTS:
            raise ValueError(f"audio_output must be one of {', '.join(AUDIO_OUTPUTS)}")
    elif key == "audio_device":
        if not isinstance(value, str) or len(value) > 100 or any(c.isspace() for c in value):
            raise ValueError("audio_device must be an ALSA device name without spaces (or empty)")
    else:
        raise ValueError(f"unknown output setting {key!r}")
    return value


def config_from_values(values: dict[str, Any]) -> VoiceConfig:
    """A :class:`VoiceConfig` from stored settings; invalid or missing values take their default.

    Never raises: a bad stored value is logged and ignored, so that it cannot
    silence a call.
    """
    voice = dict(VOICE_DEFAULTS)
    stored = values.get("voice")
    if isinstance(stored, dict):
        for key, value in stored.items():
            if key not in VOICE_DEFAULTS:
                continue
            try:
                voice[key] = _check_voice(key, value)
            except ValueError as exc:
                log.warning("ignoring voice setting %s=%r: %s", key, value, exc)
    elif stored is not None:
        log.warning("ignoring the voice setting: not an object: %r", stored)
    output = dict(OUTPUT_DEFAULTS)
    for key in OUTPUT_DEFAULTS:
        if key in values:
            try:
                output[key] = check_output_setting(key, values[key])
            except ValueError as exc:
                log.warning("ignoring setting %s=%r: %s", key, values[key], exc)
    return VoiceConfig(voice=VoiceSettings(**voice), backend=output["speech_backend"],
                       audio_output=output["audio_output"], audio_device=output["audio_device"])


def load_voice_config(store: Store) -> VoiceConfig:
    """The voice settings stored in the ``settings`` table (blocking: a SQLite read)."""
    import json

    wanted = ("voice", *OUTPUT_DEFAULTS)
    with store.read() as db:
        rows = [r for r in db.conn.execute("SELECT key, value FROM settings") if r[0] in wanted]
    values: dict[str, Any] = {}
    for key, raw in rows:
        try:
            values[key] = json.loads(raw)
        except ValueError:
            log.warning("setting %s is not JSON: %r", key, raw)
    return config_from_values(values)


def fallback_text(number: str, counter_name: str) -> str:
    """The sentence shown when the configured one cannot be built (never expected)."""
    return f"Nomor antrian {number}, silakan menuju {counter_name}"


class _Preparer:
    """A bounded priority queue of sentences to prepare, worked by one greenlet."""

    def __init__(self, prepare: Callable[[Announcement], Any], key_for: Callable[[Announcement], str],
                 is_ready: Callable[[str], bool]) -> None:
        self._prepare = prepare
        self._key_for = key_for
        self._is_ready = is_ready
        self._heap: list[tuple[int, int, str, Announcement]] = []
        self._best: dict[str, int] = {}  # key -> lowest priority queued
        self._seq = itertools.count()
        self._lock = native_lock()
        self._wakeup: Any = None
        self._running = False
        self.done = 0
        self.dropped = 0
        self._finished: Any = None  # set (and replaced) whenever a sentence is done: wakes ready_path

    def add(self, announcement: Announcement, priority: int) -> str:
        key = self._key_for(announcement)
        if self._is_ready(key):
            return key
        with self._lock:
            known = self._best.get(key)
            if known is not None and known <= priority:
                return key
            self._best[key] = priority
            heapq.heappush(self._heap, (priority, next(self._seq), key, announcement))
            if len(self._best) > MAX_PENDING:
                self._drop_least_urgent()
        self._wake()
        return key

    def _drop_least_urgent(self) -> None:
        keep = heapq.nsmallest(MAX_PENDING, (e for e in self._heap if self._best.get(e[2]) == e[0]))
        self.dropped += len(self._best) - len(keep)
        self._heap = keep
        heapq.heapify(self._heap)
        self._best = {e[2]: e[0] for e in keep}

    def pending(self) -> int:
        with self._lock:
            return len(self._best)

    def _pop(self) -> tuple[str, Announcement] | None:
        with self._lock:
            while self._heap:
                priority, _seq, key, announcement = heapq.heappop(self._heap)
                if self._best.get(key) == priority:
                    del self._best[key]
                    return key, announcement
            return None

    def run_pending(self, limit: int | None = None) -> int:
        """Prepare what is queued, most urgent first; returns how many were made.

        Used by the background loop, and directly by tests with background off.
        """
        made = 0
        while limit is None or made < limit:
            item = self._pop()
            if item is None:
                break
            _key, announcement = item
            try:
                self._prepare(announcement)
                made += 1
                self.done += 1
            except Exception:  # noqa: BLE001 - one bad sentence must not stop the others
                log.exception("could not prepare call audio for %r", announcement.text)
            finally:
                with self._lock:
                    finished, self._finished = self._finished, None
                if finished is not None:
                    finished.set()
        return made

    def finished_event(self) -> Any:
        """An event set when the next sentence is done (take it BEFORE looking whether yours is ready)."""
        with self._lock:
            if self._finished is None:
                self._finished = _new_event()
            return self._finished

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        spawn(self._loop, name="antre-announce-preparer")

    def _wake(self) -> None:
        event = self._wakeup
        if event is not None:
            event.set()

    def _loop(self) -> None:
        self._wakeup = _new_event()
        while True:
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("audio preparer failed")
                sleep(1.0)
            self._wakeup.wait(5.0)
            self._wakeup.clear()


def _new_event() -> Any:
    """A gevent Event under gevent (greenlets wait on it cooperatively), else a threading one."""
    if gevent_active():
        from gevent.event import Event

        return Event()
    return threading.Event()


class Announcer:
    """The sentences and audio of calls, for one server process.

    ``announce(ticket, ctx)`` is the publisher's hook (it fills the
    ``announcement`` of ``ticket:called``); ``on_outcome`` is a listener that
    prepares audio ahead; ``audio_path`` serves the audio route.
    """

    def __init__(self, store: Store, data_dir: Path, sounds_dir: Path, public_url: str, *,
                 today: Callable[[], str], background: bool = True, use_worker: bool = True) -> None:
        self.store = store
        self.cache_dir = Path(data_dir) / "audio"
        self.sounds_dir = Path(sounds_dir)
        self.public_url = public_url.rstrip("/")
        self.today = today
        self.background = background
        self._config: VoiceConfig | None = None
        self._config_at = 0.0
        self._synths: dict[str, Any] = {}
        self._audio: Any = None  # speech.cache.AnnouncementAudio for the current config
        self._audio_for: tuple[Any, ...] | None = None
        self._lock = threading.RLock()
        self._counters: dict[int, tuple[float, list[tuple[int, str]]]] = {}
        self.player: Any = None
        self._player_for: tuple[str, str] | None = None
        self.preparer = _Preparer(self._prepare, self._key_for, self._is_ready)
        self._events: list[dict[str, Any]] = []
        self._planning = False  # a planner greenlet is scheduled or running
        #: synthesis in a separate process (see :class:`SpeechWorker`), with background work under gevent
        self.worker: SpeechWorker | None = None
        if background and use_worker and gevent_active():
            self.worker = SpeechWorker(self.cache_dir, self.sounds_dir)
        if background:
            self.preparer.start()

    # ------------------------------------------------------------------ config

    def config(self, fresh: bool = False) -> VoiceConfig:
        """The voice settings, re-read at most every :data:`CONFIG_TTL_S` seconds (or now if ``fresh``)."""
        now = time.monotonic()
        if fresh or self._config is None or now - self._config_at > CONFIG_TTL_S:
            self._config = call_blocking(load_voice_config, self.store)
            self._config_at = now
        return self._config

    def reload(self) -> VoiceConfig:
        """Forget the cached settings (call after an admin changed them)."""
        self._config = None
        self._counters.clear()
        return self.config()

    def synthesizer(self, backend: str) -> Any:
        """The synthesizer of ``backend`` (or its fallback), created once (in a greenlet).

        With a speech worker this is a stand-in that knows the worker's voice
        (for cache keys) but does not synthesize.
        """
        from speech.synth import create_synthesizer

        with self._lock:
            synth = self._synths.get(backend)
            if synth is None and self.worker is not None:
                try:
                    synth = RemoteVoice(self.worker.describe(backend))
                except Exception:  # noqa: BLE001 - no worker: synthesize in this process instead
                    log.exception("the speech worker cannot start; synthesizing in the server process")
                    self.worker.close()
                    self.worker = None
            if synth is None:
                synth = create_synthesizer(backend)
            if backend not in self._synths:
                self._synths[backend] = synth
                if synth.name != backend:
                    log.warning("speech backend %s unavailable; calls use %s", backend, synth.name)
            return synth

    def audio(self) -> Any:
        """The :class:`speech.cache.AnnouncementAudio` of the current settings."""
        from speech.cache import AnnouncementAudio

        config = self.config()
        wanted = (config.backend, config.voice)
        with self._lock:
            if self._audio is None or self._audio_for != wanted:
                self._audio = AnnouncementAudio(self.cache_dir, self.sounds_dir, self.synthesizer(config.backend),
                                                replace(config.voice, repeats=1))
                self._audio_for = wanted
            return self._audio

    # ------------------------------------------------------------------ sentences

    def announcement(self, number: str, counter_name: str) -> Announcement:
        """The exact sentence of a call of ``number`` to ``counter_name``."""
        return build_announcement(number, counter_name, self.config().voice)

    def _key_for(self, announcement: Announcement) -> str:
        return self.audio().key_for(announcement)

    def _is_ready(self, key: str) -> bool:
        return self.audio().is_ready(key)

    def _prepare(self, announcement: Announcement) -> Path:
        audio = self.audio()
        worker = self.worker
        if worker is None or not isinstance(audio.synthesizer, RemoteVoice):
            return audio.prepare(announcement)
        key = worker.prepare(audio.synthesizer.backend, audio.settings, announcement)
        expected = audio.key_for(announcement)
        if key != expected:  # the clips or the voice changed under us: the next key_for sees it
            log.warning("speech worker made %s for %s, expected %s", key, announcement.text, expected)
        return audio.path_for(key)

    def ready_path(self, announcement: Announcement, timeout: float = 30.0) -> Path:
        """The audio of ``announcement``, made now if it is not ready (most urgent first)."""
        audio = self.audio()
        key = audio.key_for(announcement)
        if audio.is_ready(key):
            return audio.path_for(key)
        if self.worker is None or not self.preparer.running:
            return audio.prepare(announcement)
        self.preparer.add(announcement, URGENT)
        deadline = time.monotonic() + timeout
        while True:
            finished = self.preparer.finished_event()
            if audio.is_ready(key):
                return audio.path_for(key)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no audio for {announcement.text!r} in {timeout} s")
            # Woken as soon as the preparer finishes a sentence; the timeout also sees a file that
            # another process made.
            finished.wait(min(0.05, left))

    def audio_url(self, key: str, ticket_id: int | None = None) -> str:
        url = f"{self.public_url}{AUDIO_ROUTE}{key}.wav"
        return url if ticket_id is None else f"{url}?t={ticket_id}"

    def announce(self, ticket: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        """The publisher's hook: the ``announcement`` of a ``ticket:called``, ``{"text", "audio_url"}``.

        Also plays the call on the server when ``audio_output`` is "server".
        Never raises (a failure here would lose the call's fan-out).
        """
        announcement = self._describe(ticket, ctx)
        try:
            if announcement[1] is not None and self.config().audio_output == "server":
                self._play_on_server(announcement[1])
        except Exception:  # noqa: BLE001 - the displays still show the call
            log.exception("server playback of %s failed", ticket.get("number"))
        return announcement[0]

    def describe(self, ticket: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        """``{"text", "audio_url"}`` of a call of ``ticket`` to ``ctx["counter"]`` (never raises).

        Queues the audio as urgent when it is not ready.  A sentence that
        cannot be built falls back to a plain one and the chime alone.
        """
        return self._describe(ticket, ctx)[0]

    def _describe(self, ticket: dict[str, Any], ctx: dict[str, Any]) -> tuple[dict[str, Any], Announcement | None]:
        counter = ctx.get("counter") or {}
        number, counter_name = str(ticket.get("number", "")), str(counter.get("name", ""))
        try:
            announcement = self.announcement(number, counter_name)
            key = self.preparer.add(announcement, URGENT)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("no announcement for %s to %s", number, counter_name)
            return {"text": fallback_text(number, counter_name), "audio_url": self.audio_url(CHIME_NAME)}, None
        return {"text": announcement.text, "audio_url": self.audio_url(key, ticket.get("id"))}, announcement

    # ------------------------------------------------------------------ preparing ahead

    def on_outcome(self, outcome: Any) -> None:
        """Listener: queue the audio that the committed events will need (cheap, no I/O)."""
        interesting = [e for e in outcome.events if e["type"] in ("ticket.issued", "ticket.called",
                                                                   "ticket.recalled", "ticket.transferred")]
        if not interesting:
            return
        with self._lock:
            self._events.extend(interesting)
            del self._events[:-MAX_PENDING]  # with background work off, nothing drains them
            start = self.background and not self._planning
            if start:
                self._planning = True
        if start:
            spawn(self._plan_pending, name="antre-announce-plan")

    def _plan_pending(self) -> None:
        """The planner: after :data:`PLAN_DELAY_S`, plan until no event is left, then end."""
        sleep(PLAN_DELAY_S)
        while True:
            with self._lock:
                if not self._events:
                    self._planning = False
                    return
            try:
                self.plan_pending()
            except Exception:  # noqa: BLE001 - preparation is best effort; the route makes audio on demand
                log.exception("planning call audio failed")

    def plan_pending(self) -> int:
        """Turn the events seen into sentences to prepare; returns how many were queued."""
        with self._lock:
            events, self._events = self._events, []
        queued = 0
        for event in events:
            ticket = event["ticket"]
            if event["type"] == "ticket.issued" or (event["type"] == "ticket.transferred"
                                                    and ticket.get("status") == "waiting"):
                # Only the next few of a queue: synthesizing every issued ticket cannot keep up
                # with a morning rush on two cores; calls top the queue up (see _top_up).
                position = ticket.get("position")
                if not isinstance(position, int) or position >= PREPARE_AHEAD:
                    continue
                queued += self._queue_ticket(ticket["number"], ticket["service_id"], position)
            else:
                queued += self._top_up(ticket["service_id"])
        return queued

    def _queue_ticket(self, number: str, service_id: int, priority: int) -> int:
        queued = 0
        for _counter_id, name in self._open_counters(service_id):
            try:
                self.preparer.add(self.announcement(number, name), priority)
                queued += 1
            except ValueError:
                log.warning("no sentence for %s to %s", number, name)
        return queued

    def _top_up(self, service_id: int) -> int:
        def read() -> list[str]:
            with self.store.read() as db:
                rows = db.conn.execute(
                    "SELECT number FROM tickets WHERE service_id = ? AND status = 'waiting' AND day = ? "
                    "ORDER BY priority DESC, queue_at, id LIMIT ?", (service_id, self.today(), PREPARE_AHEAD),
                ).fetchall()
            return [r[0] for r in rows]

        queued = 0
        for position, number in enumerate(call_blocking(read)):
            queued += self._queue_ticket(number, service_id, position)
        return queued

    def _open_counters(self, service_id: int) -> list[tuple[int, str]]:
        """(id, name) of the open counters serving ``service_id`` (cached a few seconds)."""
        now = time.monotonic()
        hit = self._counters.get(service_id)
        if hit is not None and now - hit[0] < 10.0:
            return hit[1]

        def read() -> list[tuple[int, str]]:
            with self.store.read() as db:
                return [(r[0], r[1]) for r in db.conn.execute(
                    "SELECT c.id, c.name FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
                    "WHERE cs.service_id = ? AND c.status = 'open' ORDER BY c.sort, c.id", (service_id,),
                )]

        counters = call_blocking(read)
        self._counters[service_id] = (now, counters)
        return counters

    def warm_up(self) -> None:
        """Start the synthesizer and make the chime, so that the first call is not slow."""
        try:
            self.audio()
            self.chime_path()
        except Exception:  # noqa: BLE001 - logged; calls still show and the route retries
            log.exception("speech warm-up failed")

    # ------------------------------------------------------------------ the audio route

    def audio_path(self, key: str, ticket_number: Callable[[], tuple[str, str] | None]) -> Path | None:
        """The WAV of cache ``key``, made on demand when it is not ready yet.

        ``ticket_number`` gives the (number, counter name) of the call the
        request names, or None; the audio is made only when that call's
        sentence has this very key, so a request cannot make arbitrary audio.
        Returns None when there is no such audio.
        """
        if key == CHIME_NAME:
            return self.chime_path()
        audio = self.audio()
        try:
            path = audio.path_for(key)
        except ValueError:
            return None
        if path.is_file():
            return path
        call = ticket_number()
        if call is None:
            return None
        try:
            announcement = self.announcement(*call)
        except ValueError:
            return None
        if audio.key_for(announcement) != key:
            return None
        return self.ready_path(announcement)

    def chime_path(self) -> Path:
        """The chime alone (what a display plays when a call's audio cannot be had)."""
        from speech import audio as wav
        from speech.clips import load_chime

        cache = self.audio()
        library = cache.library(self.config().voice.lang)
        path = self.cache_dir / f"{CHIME_NAME}-{library.fingerprint()}.wav"
        if not path.is_file():
            chime = call_blocking(load_chime, library)
            tmp = path.with_name(f".{path.name}.{time.monotonic_ns()}.tmp.wav")
            call_blocking(wav.write_wav, tmp, chime)
            tmp.replace(path)
        return path

    # ------------------------------------------------------------------ server output

    def _play_on_server(self, announcement: Announcement) -> None:
        from speech.output import AnnouncementPlayer, create_output

        config = self.config()
        device = config.audio_device
        wanted = ("null" if device == "null" else "aplay", device)
        with self._lock:
            if self.player is None or self._player_for != wanted:
                output = create_output("null") if device == "null" else create_output("aplay", device=device or None)
                self.player = AnnouncementPlayer(output, repeats=config.repeats)
                self._player_for = wanted
            player = self.player
        player.enqueue(lambda: self.ready_path(announcement), repeats=config.repeats, label=announcement.text)


class RemoteVoice:
    """Stands for the speech worker's synthesizer in the server: its voice, for cache keys."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.backend = str(description["backend"])
        self.name = str(description["name"])
        self._fingerprints = dict(description["fingerprints"])

    def fingerprint(self, lang: str) -> str:
        return self._fingerprints[lang]

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        raise RuntimeError("the speech worker synthesizes; this process does not")


class SpeechWorker:
    """Speech synthesis in a child process (``python -m antre.announce --worker``).

    Why a separate process: espeak-ng is a C library, and one that crashes
    must not take the queue down; synthesis and mixing are pure-Python CPU
    work that, in a thread, still holds the GIL for tens of milliseconds and
    delays every call's fan-out; and the engine and its buffers (about 11 MB)
    stay out of the server, which holds a socket for every screen.

    One JSON request and one JSON answer per line over the child's stdin and
    stdout; one request at a time (the preparer sends them, most urgent
    first).  A child that dies, hangs (``timeout``) or answers nonsense is
    killed and started again for the next request.  Used under gevent only:
    the pipes are then cooperative.  The child reads until its stdin closes,
    so it ends with the server, however the server ends.
    """

    def __init__(self, cache_dir: Path, sounds_dir: Path, timeout: float = 30.0) -> None:
        self.cache_dir = Path(cache_dir)
        self.sounds_dir = Path(sounds_dir)
        self.timeout = timeout
        self.proc: Any = None
        self._lock = threading.Lock()  # gevent's lock once patched: waits cooperatively
        self._seq = itertools.count(1)
        self.started = 0

    def _start(self) -> None:
        import subprocess
        import sys

        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "antre.announce", "--worker", str(self.cache_dir), str(self.sounds_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=str(root),
        )
        self.started += 1
        log.info("speech worker started (pid %s)", self.proc.pid)

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.kill()
            proc.wait(5)
        except Exception:  # noqa: BLE001 - gone already
            log.debug("speech worker kill failed", exc_info=True)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its answer; raise RuntimeError when the worker fails twice."""
        import json

        from gevent import Timeout

        message = {**message, "id": next(self._seq)}
        with self._lock:
            for attempt in (1, 2):
                if self.proc is None or self.proc.poll() is not None:
                    self._start()
                try:
                    with Timeout(self.timeout):
                        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
                        self.proc.stdin.flush()
                        line = self.proc.stdout.readline()
                    if not line:
                        raise ConnectionError("the speech worker exited")
                    answer = json.loads(line)
                    if answer.get("id") != message["id"]:
                        raise ConnectionError(f"answer {answer.get('id')} to request {message['id']}")
                except (Timeout, OSError, ConnectionError, ValueError) as exc:
                    log.warning("speech worker failed (%s: %s); restarting it", type(exc).__name__, exc)
                    self._kill()
                    if attempt == 2:
                        raise RuntimeError(f"speech worker failed: {exc}") from exc
                    continue
                if not answer.get("ok"):
                    raise RuntimeError(answer.get("error") or "speech worker error")
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def describe(self, backend: str) -> dict[str, Any]:
        """The worker's synthesizer for ``backend``: actual name and voice fingerprints."""
        return self.request({"op": "describe", "backend": backend})

    def prepare(self, backend: str, voice: VoiceSettings, announcement: Announcement) -> str:
        """Make the audio of ``announcement``; return its cache key."""
        from dataclasses import asdict

        answer = self.request({
            "op": "prepare", "backend": backend, "voice": asdict(voice),
            "announcement": {"text": announcement.text, "words": list(announcement.words), "lang": announcement.lang,
                             "tokens": [asdict(t) for t in announcement.tokens]},
        })
        return str(answer["key"])

    def close(self) -> None:
        self._kill()


def lower_priority(increment: int = WORKER_NICE) -> None:
    """Run this process below the server's requests (call before it starts any thread).

    ``nice``: under contention the kernel gives the server about ten times
    this process's share of a core.  ``SCHED_BATCH`` (Linux): a CPU-bound
    process that does not preempt a waking one, so a request's greenlet
    runs at once when its packet arrives.  Both are inherited by the
    threads started later (pyttsx3's, espeak-ng's).  Best effort: a system
    that refuses either still gets its audio.
    """
    import os

    try:
        os.nice(increment)
    except OSError as exc:
        log.warning("speech worker: cannot lower its priority: %s", exc)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError as exc:
            log.warning("speech worker: cannot use SCHED_BATCH: %s", exc)


def _worker_main(cache_dir: Path, sounds_dir: Path) -> int:
    """The speech worker process: answer requests from stdin until it closes."""
    import json
    import os
    import sys

    lower_priority()

    from speech import audio
    from speech.cache import AnnouncementAudio
    from speech.clips import CHIME_LEVEL
    from speech.sentence import Token
    from speech.synth import create_synthesizer

    # Answers go to the real stdout only; anything else printed (by a library, or by espeak-ng
    # in C) goes to stderr, the server's log.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s")
    synths: dict[str, Any] = {}
    caches: dict[tuple[str, str], AnnouncementAudio] = {}
    warm = False

    def synthesizer(backend: str) -> Any:
        if backend not in SPEECH_BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        if backend not in synths:
            synths[backend] = create_synthesizer(backend)
        return synths[backend]

    for line in sys.stdin:
        answer: dict[str, Any]
        request: Any = None
        try:
            request = json.loads(line)
            answer = {"id": request.get("id"), "ok": True}
            if request["op"] == "describe":
                synth = synthesizer(request["backend"])
                answer.update(backend=request["backend"], name=synth.name,
                              fingerprints={lang: synth.fingerprint(lang) for lang in LANGS})
            elif request["op"] == "prepare":
                voice = VoiceSettings(**request["voice"])
                spoken = request["announcement"]
                announcement = Announcement(text=spoken["text"], words=spoken["words"], lang=spoken["lang"],
                                            tokens=tuple(Token(**t) for t in spoken["tokens"]))
                wanted = (request["backend"], json.dumps(request["voice"], sort_keys=True))
                cache = caches.get(wanted)
                if cache is None:
                    cache = caches[wanted] = AnnouncementAudio(cache_dir, sounds_dir,
                                                               synthesizer(request["backend"]), voice)
                answer["key"] = cache.prepare(announcement).stem
            else:
                raise ValueError(f"unknown op {request['op']!r}")
        except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a dead worker
            log.exception("speech worker request failed")
            answer = {"id": request.get("id") if isinstance(request, dict) else None, "ok": False,
                      "error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
        if not warm:
            # Once the server has its answer to the first request (its warm-up's ``describe``): the
            # built-in chime, about 0.2 s of CPU, now rather than in the first call's sentence.
            warm = True
            audio.chime(level=CHIME_LEVEL)
    return 0


def call_of_ticket(store: Store, ticket_id: int) -> tuple[str, str] | None:
    """(number, counter name) of a ticket that was called to a counter, else None (blocking)."""
    with store.read() as db:
        row = db.conn.execute(
            "SELECT t.number, c.name FROM tickets t JOIN counters c ON c.id = t.counter_id WHERE t.id = ?",
            (ticket_id,),
        ).fetchone()
    return None if row is None else (row[0], row[1])


def call_event(store: Store, event_id: int) -> dict[str, Any] | None:
    """A ``ticket.called``/``ticket.recalled`` event with its counter, else None (blocking)."""
    import json

    with store.read() as db:
        row = db.conn.execute(
            "SELECT e.id, e.type, e.occurred_at, e.payload, c.id, c.name, c.zone FROM events e "
            "JOIN counters c ON c.id = e.counter_id "
            "WHERE e.id = ? AND e.type IN ('ticket.called', 'ticket.recalled')", (event_id,),
        ).fetchone()
    if row is None:
        return None
    return {"event_id": row[0], "recall": row[1] == "ticket.recalled", "at": row[2], "ticket": json.loads(row[3]),
            "counter": {"id": row[4], "name": row[5], "zone": row[6]}}


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(Path(sys.argv[2]), Path(sys.argv[3])))
    sys.exit("usage: python -m antre.announce --worker CACHE_DIR SOUNDS_DIR")
