"""Prepared call audio, cached by sentence.

``prepare(announcement)`` makes one WAV, chime + sentence once (the player
does the repeating), and keeps it under a key derived from everything that
changes the sound: the text, the voice settings, the synthesizer's voice and
the recorded clips present.  The same sentence is therefore synthesized once,
whichever ticket or day it comes back on.

Concurrency: a per-key lock makes two callers (threads, or greenlets under
gevent) preparing the same sentence share one synthesis; the file is written
to a temporary name and renamed into place, so a reader never sees half a
file, also across processes sharing the directory.  ``prepare_async`` hands
work to one background preparer (``spawn``) so a request never waits for
synthesis; the CPU-bound joining runs through ``call_blocking``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from antre.blocking import call_blocking, spawn
from antre.blocking import sleep as cooperative_sleep
from speech import audio
from speech.clips import ClipLibrary, Segment, assemble, load_chime
from speech.sentence import Announcement, VoiceSettings, build_announcement
from speech.synth import SynthesisError, Synthesizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # about 1,100 sentences of 4 s
DEFAULT_MAX_AGE_S = 30 * 24 * 3600
STALE_TEMP_S = 3600
PARTS_DIR = "parts"
MAX_ERRORS = 1000  # failures remembered per key (oldest forgotten first)


class AnnouncementAudio:
    """Makes and caches the audio file of each call-out sentence."""

    def __init__(
        self,
        cache_dir: Path,
        sounds_dir: Path,
        synthesizer: Synthesizer,
        settings: VoiceSettings,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        prune_every: int = 50,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.sounds_dir = Path(sounds_dir)
        self.synthesizer = synthesizer
        self.settings = settings
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.prune_every = prune_every
        (self.cache_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
        self._libraries: dict[str, ClipLibrary] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # key -> [lock, users]
        self._pending: set[str] = set()
        self._queue: queue.Queue[tuple[str, Announcement] | None] = queue.Queue()
        self._preparer: Any = None
        self._writes = 0
        self.errors: dict[str, str] = {}
        self.stats = {"hits": 0, "made": 0, "synthesized": 0, "failed": 0}
        self.prune()

    # ------------------------------------------------------------------ keys

    def library(self, lang: str) -> ClipLibrary:
        with self._guard:
            if lang not in self._libraries:
                self._libraries[lang] = ClipLibrary(self.sounds_dir, lang, self.cache_dir / PARTS_DIR)
            return self._libraries[lang]

    def build(self, ticket_number: str, counter_name: str) -> Announcement:
        """The announcement for a call, with this cache's voice settings."""
        return build_announcement(ticket_number, counter_name, self.settings)

    def key_for(self, announcement: Announcement) -> str:
        """sha256 of everything that shapes the sound; stable across processes."""
        settings = asdict(self.settings)
        settings.pop("repeats")  # repeating is the player's job, not the file's
        material = {
            "format": FORMAT_VERSION,
            "text": announcement.text,
            "lang": announcement.lang,
            "words": [t.key for t in announcement.tokens],
            "settings": settings,
            "voice": self.synthesizer.fingerprint(announcement.lang),
            "clips": self.library(announcement.lang).fingerprint(),
        }
        blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def path_for(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.cache_dir / f"{key}.wav"

    def is_ready(self, key: str) -> bool:
        return self.path_for(key).is_file()

    # ------------------------------------------------------------------ locks

    def _acquire(self, key: str) -> Any:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        entry[0].acquire()
        return entry

    def _release(self, key: str, entry: list[Any]) -> None:
        entry[0].release()
        with self._guard:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(key, None)

    # ------------------------------------------------------------------ making

    def prepare(self, announcement: Announcement) -> Path:
        """The WAV for ``announcement`` (chime + sentence once), made if needed.

        Idempotent; concurrent calls for one sentence share one synthesis.
        Raises :class:`SynthesisError` (or :class:`OSError`) on failure.
        """
        key = self.key_for(announcement)
        path = self.path_for(key)
        if self._hit(path):
            return path
        entry = self._acquire(key)
        try:
            if self._hit(path):
                return path
            try:
                self._make(announcement, path)
            except Exception as exc:
                self.stats["failed"] += 1
                if len(self.errors) >= MAX_ERRORS:
                    self.errors.pop(next(iter(self.errors)))
                self.errors[key] = f"{type(exc).__name__}: {exc}"
                raise
            self.errors.pop(key, None)
            self.stats["made"] += 1
        finally:
            self._release(key, entry)
        self._writes += 1
        if self.prune_every and self._writes % self.prune_every == 0:
            self.prune()
        return path

    def _hit(self, path: Path) -> bool:
        try:
            os.utime(path)  # keeps often-used sentences from being pruned
        except FileNotFoundError:
            return False
        self.stats["hits"] += 1
        return True

    def _temp(self, directory: Path) -> Path:
        return directory / f".{uuid.uuid4().hex}.{os.getpid()}.tmp.wav"

    def _synthesize(self, text: str, lang: str) -> Path:
        out = self._temp(self.cache_dir)
        try:
            self.synthesizer.synthesize(text, lang, out)
        except SynthesisError:
            out.unlink(missing_ok=True)
            raise
        self.stats["synthesized"] += 1
        return out

    def _part(self, segment: Segment, lang: str) -> Path:
        """Synthesized audio of a segment with no clip, cached by its text and voice."""
        material = json.dumps(
            [FORMAT_VERSION, "part", segment.text, lang, self.synthesizer.fingerprint(lang)],
            ensure_ascii=False,
        ).encode("utf-8")
        key = hashlib.sha256(material).hexdigest()
        path = self.cache_dir / PARTS_DIR / f"{key}.wav"
        if self._hit(path):
            return path
        entry = self._acquire("part:" + key)
        try:
            if not self._hit(path):
                raw = self._synthesize(segment.text, lang)
                try:
                    call_blocking(_publish, raw, path)
                finally:
                    raw.unlink(missing_ok=True)
        finally:
            self._release("part:" + key, entry)
        return path

    def _make(self, announcement: Announcement, path: Path) -> None:
        library = self.library(announcement.lang)
        segments = library.plan(announcement)
        try:
            self._make_from(segments, announcement, library, path)
        except (audio.WavError, OSError) as exc:
            if all(seg.clip is None for seg in segments):
                raise
            # A clip that reads but cannot be used (silent, vanished while
            # joining): say the whole sentence with the synthesizer instead.
            log.warning("recorded clips failed (%s); synthesizing %r", exc, announcement.text)
            whole = [Segment(tuple(t.key for t in announcement.tokens), announcement.text)]
            self._make_from(whole, announcement, library, path)

    def _make_from(
        self, segments: list[Segment], announcement: Announcement, library: ClipLibrary, path: Path
    ) -> None:
        made: dict[int, Path] = {}
        temporary: list[Path] = []
        try:
            if len(segments) == 1 and segments[0].clip is None:
                made[0] = self._synthesize(segments[0].text, announcement.lang)
                temporary.append(made[0])
            else:
                for i, seg in enumerate(segments):
                    if seg.clip is None:
                        made[i] = self._part(seg, announcement.lang)
            call_blocking(self._render, segments, library, made, path)
        finally:
            for t in temporary:
                t.unlink(missing_ok=True)

    def _render(
        self,
        segments: list[Segment],
        library: ClipLibrary,
        made: dict[int, Path],
        path: Path,
    ) -> None:
        chime = load_chime(library) if self.settings.chime else None
        joined, _joins = assemble(segments, library, made, chime)
        audio.publish_wav(path, joined)

    # ------------------------------------------------------------------ background

    def prepare_async(self, announcement: Announcement) -> str:
        """Queue ``announcement`` for the background preparer; return its key at once."""
        key = self.key_for(announcement)
        if self.is_ready(key):
            return key
        with self._guard:
            if key in self._pending:
                return key
            self._pending.add(key)
            start = self._preparer is None
            if start:
                self._preparer = True
        self._queue.put((key, announcement))
        if start:
            self._preparer = spawn(self._run_preparer, name="antre-speech-preparer")
        return key

    def _run_preparer(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            key, announcement = item
            try:
                self.prepare(announcement)
            except Exception:  # noqa: BLE001 - one bad sentence must not stop the others
                log.exception("could not prepare call audio for %r", announcement.text)
            finally:
                with self._guard:
                    self._pending.discard(key)

    def pending(self) -> int:
        with self._guard:
            return len(self._pending)

    def wait_ready(self, key: str, timeout: float) -> bool:
        """Wait (cooperatively) until ``key`` is ready, has failed, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready(key):
                return True
            with self._guard:
                pending = key in self._pending
            if not pending and key in self.errors:
                return False
            cooperative_sleep(0.01)
        return self.is_ready(key)

    def close(self) -> None:
        """Stop the background preparer after the work already queued."""
        with self._guard:
            running = self._preparer is not None
            self._preparer = None
        if running:
            self._queue.put(None)

    # ------------------------------------------------------------------ pruning

    def prune(self) -> int:
        """Remove files older than ``max_age_s``, then the oldest beyond ``max_bytes``.

        Every hit refreshes a file's time, so often-called sentences stay.
        Returns the number of files removed.
        """
        now = time.time()
        files: list[tuple[float, int, Path]] = []
        removed = 0
        for directory in (self.cache_dir, self.cache_dir / PARTS_DIR):
            try:
                entries = list(os.scandir(directory))
            except FileNotFoundError:
                continue
            for entry in entries:
                if not entry.is_file() or not entry.name.endswith(".wav"):
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                is_temp = entry.name.endswith(".tmp.wav")
                if (is_temp and now - st.st_mtime > STALE_TEMP_S) or (
                    not is_temp and now - st.st_mtime > self.max_age_s
                ):
                    removed += _remove(Path(entry.path))
                elif not is_temp:
                    files.append((st.st_mtime, st.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in files)
        if total > self.max_bytes:
            for _mtime, size, path in sorted(files, key=lambda f: f[0]):
                if total <= self.max_bytes * 0.9:
                    break
                removed += _remove(path)
                total -= size
        return removed


def _remove(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _publish(raw: Path, path: Path) -> None:
    """Store a synthesized part in canonical form (22050 Hz mono), atomically."""
    audio.publish_wav(path, audio.read_wav(raw))
