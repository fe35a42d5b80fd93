"""Playing calls on the server's own sound output.

For buildings whose waiting-room speakers hang off the server (otherwise the
display browsers play the prepared files).  :class:`AnnouncementPlayer` plays
queued calls one after another, never two at once and never dropping one:
``enqueue`` returns at once, one background loop plays each call its number
of times with a short pause between, and a call whose audio is still being
prepared is waited for rather than skipped.

Backends: ``aplay`` (ALSA's player in a subprocess, device configurable,
with a timeout derived from the file's length) and ``null`` (plays nothing;
records what it was asked to play, optionally taking real time).
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antre.blocking import sleep as cooperative_sleep
from antre.blocking import spawn
from speech import audio, proc

log = logging.getLogger(__name__)


class PlaybackError(RuntimeError):
    """The output could not play a file."""


class AudioOutput(ABC):
    """Plays a WAV file to the end before returning."""

    name = "?"

    @abstractmethod
    def play(self, path: Path) -> None:
        """Play ``path``; block until it has finished. Raise :class:`PlaybackError`."""


class AplayOutput(AudioOutput):
    """``aplay -q [-D device] FILE`` with a timeout of the file's length plus a margin."""

    name = "aplay"

    def __init__(
        self, device: str | None = None, margin_s: float = 5.0, binary: str | None = None
    ) -> None:
        found = binary or shutil.which("aplay")
        if not found:
            raise PlaybackError("aplay is not installed (apt-get install alsa-utils)")
        self.binary = found
        self.device = device
        self.margin_s = margin_s

    def play(self, path: Path) -> None:
        try:
            seconds = audio.duration_of(path)
        except (OSError, ValueError) as exc:
            raise PlaybackError(f"cannot read {path}: {exc}") from exc
        cmd = [self.binary, "-q"]
        if self.device:
            cmd += ["-D", self.device]
        cmd.append(str(path))
        limit = seconds + self.margin_s
        try:
            done = proc.run(cmd, limit)
        except subprocess.TimeoutExpired:
            raise PlaybackError(f"aplay did not finish {path.name} in {limit:.1f} s") from None
        except OSError as exc:
            raise PlaybackError(f"cannot run aplay: {exc}") from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()
            raise PlaybackError(f"aplay failed ({done.returncode}): {err}")


@dataclass
class PlayRecord:
    """One play of one file (each repeat is its own record)."""

    seq: int
    label: str
    path: Path | None
    repeat: int
    started: float
    ended: float
    error: str | None = None


class NullOutput(AudioOutput):
    """Plays nothing.  Records each play; with ``realtime`` it takes the file's duration.

    ``max_active`` is the most plays that were ever in progress at once
    (it must stay 1 behind a player).
    """

    name = "null"

    def __init__(self, realtime: bool = False, speed: float = 1.0) -> None:
        self.realtime = realtime
        self.speed = speed
        self.played: list[tuple[Path, float, float]] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def play(self, path: Path) -> None:
        try:
            seconds = audio.duration_of(path)
        except (OSError, ValueError) as exc:
            raise PlaybackError(f"cannot read {path}: {exc}") from exc
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        started = time.monotonic()
        try:
            if self.realtime:
                cooperative_sleep(seconds / self.speed)
        finally:
            with self._lock:
                self.active -= 1
                self.played.append((Path(path), started, time.monotonic()))


_OUTPUTS: dict[str, Callable[..., AudioOutput]] = {"aplay": AplayOutput, "null": NullOutput}


def register_output(name: str, factory: Callable[..., AudioOutput]) -> None:
    _OUTPUTS[name] = factory


def create_output(name: str = "aplay", **options: Any) -> AudioOutput:
    """The output backend ``name`` (``aplay`` takes ``device``)."""
    if name not in _OUTPUTS:
        raise ValueError(f"unknown audio output {name!r}; known: {', '.join(sorted(_OUTPUTS))}")
    return _OUTPUTS[name](**options)


Source = Path | Callable[[], Path]
IDLE_EXIT_S = 30.0
HISTORY = 1000  # most recent plays kept for status pages and tests


class AnnouncementPlayer:
    """Plays queued calls in order, one at a time, each ``repeats`` times."""

    def __init__(
        self,
        output: AudioOutput,
        *,
        repeats: int = 1,
        pause_s: float = 0.6,
        retry_pause_s: float = 0.5,
        name: str = "antre-player",
    ) -> None:
        if repeats < 1:
            raise ValueError("repeats must be at least 1")
        self.output = output
        self.repeats = repeats
        self.pause_s = pause_s
        self.retry_pause_s = retry_pause_s
        self.name = name
        self.history: deque[PlayRecord] = deque(maxlen=HISTORY)
        self._queue: queue.Queue[tuple[int, Source, int, str]] = queue.Queue()
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._unfinished = 0
        self._loop: Any = None
        self._closed = False

    def enqueue(self, source: Source, *, repeats: int | None = None, label: str = "") -> int:
        """Queue a call; returns its sequence number at once.

        ``source`` is the WAV, or a function returning it (such as
        ``lambda: cache.prepare(announcement)``), called when its turn comes.
        """
        if self._closed:
            raise RuntimeError("the player is closed")
        count = self.repeats if repeats is None else repeats
        if count < 1:
            raise ValueError("repeats must be at least 1")
        with self._lock:
            seq = next(self._seq)
            self._queue.put((seq, source, count, label))
            self._unfinished += 1
            start = self._loop is None
            if start:
                self._loop = True
        if start:
            self._loop = spawn(self._run, name=self.name)
        return seq

    def pending(self) -> int:
        """Calls queued or playing."""
        with self._lock:
            return self._unfinished

    def wait_idle(self, timeout: float) -> bool:
        """Wait (cooperatively) until every queued call has been played."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > deadline:
                return False
            cooperative_sleep(0.01)
        return True

    def close(self) -> None:
        """Refuse new calls; the ones queued are still played."""
        self._closed = True

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=IDLE_EXIT_S)
            except queue.Empty:
                # Idle: let the loop end; the next enqueue starts a new one.
                with self._lock:
                    if self._queue.empty():
                        self._loop = None
                        return
                continue
            try:
                self._play_item(*item)
            finally:
                with self._lock:
                    self._unfinished -= 1

    def _play_item(self, seq: int, source: Source, repeats: int, label: str) -> None:
        try:
            path = source() if callable(source) else Path(source)
        except Exception as exc:  # noqa: BLE001 - recorded and logged, next call goes on
            now = time.monotonic()
            log.error("call %s (%s): no audio: %s", seq, label, exc)
            self.history.append(PlayRecord(seq, label, None, 0, now, now, f"no audio: {exc}"))
            return
        for repeat in range(1, repeats + 1):
            started = time.monotonic()
            error = self._play_once(path)
            self.history.append(PlayRecord(seq, label, path, repeat, started, time.monotonic(), error))
            cooperative_sleep(self.pause_s)

    def _play_once(self, path: Path) -> str | None:
        for attempt in (1, 2):
            try:
                self.output.play(path)
                return None
            except PlaybackError as exc:
                log.warning("playing %s failed (attempt %d): %s", path.name, attempt, exc)
                if attempt == 2:
                    return str(exc)
                cooperative_sleep(self.retry_pause_s)
        return None  # pragma: no cover - the loop always returns
