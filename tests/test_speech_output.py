"""The announcement player: order, no overlap, no drop; the aplay and null outputs."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from speech import audio
from speech.output import (
    AnnouncementPlayer,
    AplayOutput,
    AudioOutput,
    NullOutput,
    PlaybackError,
    create_output,
)

HAS_APLAY = shutil.which("aplay") is not None


def _clip(tmp_path: Path, name: str, seconds: float, freq: float = 500) -> Path:
    return audio.write_wav(tmp_path / f"{name}.wav", audio.tone(freq, seconds))


def _assert_sequential(records: object) -> None:
    records = list(records)  # type: ignore[call-overload]
    for before, after in zip(records, records[1:], strict=False):
        assert before.ended <= after.started, (before, after)


def test_three_quick_calls_play_in_order_without_overlap(tmp_path: Path) -> None:
    out = NullOutput(realtime=True)
    player = AnnouncementPlayer(out, pause_s=0.02)
    clips = [_clip(tmp_path, f"c{i}", 0.15, 400 + 100 * i) for i in range(3)]
    started = time.perf_counter()
    seqs = [player.enqueue(c, label=f"A00{i}") for i, c in enumerate(clips)]
    assert time.perf_counter() - started < 0.05  # enqueue does not wait for playing
    assert seqs == [1, 2, 3]
    assert player.wait_idle(10)
    assert [p for p, _, _ in out.played] == clips
    assert [r.label for r in player.history] == ["A000", "A001", "A002"]
    assert all(r.error is None for r in player.history)
    assert out.max_active == 1
    _assert_sequential(player.history)
    # Each took its real length: they were played, not skipped.
    assert all(r.ended - r.started >= 0.14 for r in player.history)


def test_repeats_with_a_pause_between(tmp_path: Path) -> None:
    out = NullOutput(realtime=True)
    player = AnnouncementPlayer(out, repeats=2, pause_s=0.1)
    a, b = _clip(tmp_path, "a", 0.1), _clip(tmp_path, "b", 0.1)
    player.enqueue(a, label="a")
    player.enqueue(b, label="b", repeats=3)
    assert player.wait_idle(10)
    assert [(r.label, r.repeat) for r in player.history] == [
        ("a", 1), ("a", 2), ("b", 1), ("b", 2), ("b", 3),
    ]  # fmt: skip
    history = list(player.history)
    gaps = [after.started - before.ended for before, after in zip(history, history[1:], strict=False)]
    assert all(g >= 0.09 for g in gaps), gaps
    assert out.max_active == 1


def test_many_callers_nothing_dropped(tmp_path: Path) -> None:
    out = NullOutput(realtime=False)
    player = AnnouncementPlayer(out, pause_s=0)
    clip = _clip(tmp_path, "x", 0.05)

    def caller(who: int) -> None:
        for n in range(10):
            player.enqueue(clip, label=f"{who}:{n}")

    threads = [threading.Thread(target=caller, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert player.wait_idle(10)
    labels = [r.label for r in player.history]
    assert len(labels) == 40 and len(set(labels)) == 40
    for who in range(4):  # each caller's calls in its own order
        mine = [int(label.split(":")[1]) for label in labels if label.startswith(f"{who}:")]
        assert mine == list(range(10))


def test_audio_prepared_on_its_turn_and_errors_do_not_stop_the_queue(tmp_path: Path) -> None:
    out = NullOutput(realtime=True)
    player = AnnouncementPlayer(out, pause_s=0)
    ready = _clip(tmp_path, "ready", 0.05)

    def slow_prepare() -> Path:
        time.sleep(0.2)
        return _clip(tmp_path, "late", 0.05)

    def broken_prepare() -> Path:
        raise RuntimeError("synthesis failed")

    player.enqueue(slow_prepare, label="late")
    player.enqueue(broken_prepare, label="broken")
    player.enqueue(ready, label="ready")
    player.enqueue(tmp_path / "missing.wav", label="missing")
    assert player.wait_idle(10)
    assert [r.label for r in player.history] == ["late", "broken", "ready", "missing"]
    assert player.history[0].error is None and player.history[2].error is None
    assert "synthesis failed" in (player.history[1].error or "")
    assert player.history[3].error  # reported, after one retry
    assert [p.name for p, _, _ in out.played] == ["late.wav", "ready.wav"]


def test_playback_failure_is_retried_once(tmp_path: Path) -> None:
    class Flaky(AudioOutput):
        name = "flaky"

        def __init__(self) -> None:
            self.attempts = 0

        def play(self, path: Path) -> None:
            self.attempts += 1
            if self.attempts == 1:
                raise PlaybackError("device busy")

    flaky = Flaky()
    player = AnnouncementPlayer(flaky, pause_s=0, retry_pause_s=0.01)
    player.enqueue(_clip(tmp_path, "f", 0.05))
    assert player.wait_idle(5)
    assert flaky.attempts == 2 and player.history[0].error is None


def test_closed_player_refuses_and_bad_repeats(tmp_path: Path) -> None:
    player = AnnouncementPlayer(NullOutput())
    with pytest.raises(ValueError):
        player.enqueue(_clip(tmp_path, "r", 0.05), repeats=0)
    player.close()
    with pytest.raises(RuntimeError):
        player.enqueue(_clip(tmp_path, "r", 0.05))
    with pytest.raises(ValueError):
        AnnouncementPlayer(NullOutput(), repeats=0)


@pytest.mark.skipif(not HAS_APLAY, reason="alsa-utils is not installed")
def test_aplay_output(tmp_path: Path) -> None:
    clip = _clip(tmp_path, "a", 0.2)
    out = create_output("aplay", device="null")
    assert isinstance(out, AplayOutput)
    out.play(clip)  # ALSA's null device: accepted and discarded
    with pytest.raises(PlaybackError, match="aplay failed"):
        AplayOutput(device="no-such-device").play(clip)
    with pytest.raises(PlaybackError, match="cannot read"):
        out.play(tmp_path / "missing.wav")
    hang = tmp_path / "hanging-aplay"
    hang.write_text("#!/bin/sh\nsleep 10\n")
    hang.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(PlaybackError, match="did not finish"):
        AplayOutput(binary=str(hang), margin_s=0.3).play(clip)
    assert time.monotonic() - started < 2.0  # the clip's 0.2 s plus the margin


def test_unknown_output() -> None:
    with pytest.raises(ValueError, match="unknown audio output"):
        create_output("pulse")
    assert isinstance(create_output("null"), NullOutput)
