"""Synthesizer backends: real pyttsx3 and espeak-ng, and the tone fallback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from speech import audio, synth
from speech.sentence import VoiceSettings, build_announcement
from speech.synth import (
    EspeakSynthesizer,
    SynthesisError,
    ToneSynthesizer,
    create_synthesizer,
)

REPO = Path(__file__).resolve().parents[1]
HAS_ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")

STANDARD = build_announcement("A012", "Loket 3", VoiceSettings())
STANDARD_EN = build_announcement("A012", "Counter 3", VoiceSettings(lang="en"))


def _measure(path: Path) -> tuple[float, float]:
    sound = audio.read_wav(path)
    return sound.duration, audio.rms(sound)


@pytest.fixture(scope="module")
def pyttsx3_synth() -> synth.Synthesizer:
    try:
        s = create_synthesizer("pyttsx3", fallback=False)
    except SynthesisError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"pyttsx3 unavailable: {exc}")
    return s


@needs_espeak
def test_pyttsx3_standard_sentence(pyttsx3_synth: synth.Synthesizer, tmp_path: Path) -> None:
    assert pyttsx3_synth.name == "pyttsx3"
    out = tmp_path / "call.wav"
    started = time.perf_counter()
    result = pyttsx3_synth.synthesize(STANDARD.text, "id", out)
    took = time.perf_counter() - started
    assert result == out and out.is_file()
    info = audio.read_wav_info(out)
    assert (info.rate, info.channels, info.sample_width) == (22050, 1, 2)
    duration, rms = _measure(out)
    assert 1.5 < duration < 6.0
    assert rms > 0.03
    assert took < 1.0
    assert "pyttsx3" in pyttsx3_synth.fingerprint("id") and "voice=id" in pyttsx3_synth.fingerprint("id")


@needs_espeak
def test_pyttsx3_many_sentences_in_a_row_and_both_languages(
    pyttsx3_synth: synth.Synthesizer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: voice changes raced espeak-ng (empty WAVs, sentences at the old rate)."""
    caplog.set_level("WARNING", logger="speech.synth")
    durations: dict[str, list[float]] = {"id": [], "en": []}
    for i in range(12):
        lang = "en" if i % 3 == 1 else "id"
        a = STANDARD_EN if lang == "en" else STANDARD
        out = tmp_path / f"{i}.wav"
        pyttsx3_synth.synthesize(a.text, lang, out)
        duration, rms = _measure(out)
        assert rms > 0.03, (i, lang)
        durations[lang].append(duration)
    for lang, values in durations.items():
        # The same sentence at the same rate: the same length each time.
        assert max(values) - min(values) < 0.1, (lang, values)
    assert durations["id"][0] > 3.5  # spoken at 150 wpm, not espeak's 175 or the driver's 200
    # Neither retried after an empty WAV nor handed to the espeak-ng CLI.
    assert not [r for r in caplog.records if r.name == "speech.synth"], caplog.text


@needs_espeak
def test_pyttsx3_rate_is_configurable(pyttsx3_synth: synth.Synthesizer, tmp_path: Path) -> None:
    fast = create_synthesizer("pyttsx3", fallback=False, rate=220)
    fast.synthesize(STANDARD.text, "id", tmp_path / "fast.wav")
    pyttsx3_synth.synthesize(STANDARD.text, "id", tmp_path / "slow.wav")
    fast_s = audio.trim_silence(audio.read_wav(tmp_path / "fast.wav")).duration
    slow_s = audio.trim_silence(audio.read_wav(tmp_path / "slow.wav")).duration
    assert fast_s < slow_s * 0.8
    assert fast.fingerprint("id") != pyttsx3_synth.fingerprint("id")


def test_pyttsx3_threads_share_one_engine(pyttsx3_synth: synth.Synthesizer, tmp_path: Path) -> None:
    """Eight threads at once: every file written, none lost (one engine, one worker)."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            pyttsx3_synth.synthesize(f"Nomor antrian be, {n}, silakan menuju loket satu", "id", tmp_path / f"t{n}.wav")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    for n in range(8):
        duration, rms = _measure(tmp_path / f"t{n}.wav")
        assert duration > 1.5 and rms > 0.03


def test_wait_for_wav_waits_for_a_late_growing_file(tmp_path: Path) -> None:
    path = tmp_path / "late.wav"
    sound = audio.tone(500, 1.0)

    def writer() -> None:
        time.sleep(0.15)
        with wave.open(str(path), "wb") as w:  # header first, samples in slices
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            raw = sound.samples.tobytes()
            for i in range(0, len(raw), 8820):
                w.writeframes(raw[i : i + 8820])
                time.sleep(0.03)

    t = threading.Thread(target=writer)
    t.start()
    got = synth._wait_for_wav(path, wait_s=5)
    t.join()
    assert audio.read_wav(got).samples == sound.samples


def test_wait_for_wav_empty_and_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    audio.write_wav(empty, audio.silence(0))
    started = time.monotonic()
    with pytest.raises(synth.EmptyWavError):
        synth._wait_for_wav(empty, wait_s=5)
    assert time.monotonic() - started < 1.0  # at once, not after the timeout
    with pytest.raises(SynthesisError, match="no complete WAV"):
        synth._wait_for_wav(tmp_path / "never.wav", wait_s=0.2)


@needs_espeak
def test_espeak_backend(tmp_path: Path) -> None:
    s = create_synthesizer("espeak", fallback=False)
    assert isinstance(s, EspeakSynthesizer)
    started = time.perf_counter()
    s.synthesize(STANDARD.text, "id", tmp_path / "id.wav")
    took = time.perf_counter() - started
    duration, rms = _measure(tmp_path / "id.wav")
    assert 1.5 < duration < 6.0 and rms > 0.03
    assert took < 1.0
    s.synthesize(STANDARD_EN.text, "en", tmp_path / "en.wav")
    duration, rms = _measure(tmp_path / "en.wav")
    assert 1.5 < duration < 6.0 and rms > 0.03
    # Text on stdin: a sentence that looks like an option is still spoken.
    s.synthesize("-v xx --help", "id", tmp_path / "dash.wav")
    assert _measure(tmp_path / "dash.wav")[0] > 0.5
    assert s.fingerprint("id").startswith("espeak-ng 1.")


@needs_espeak
def test_espeak_failures(tmp_path: Path) -> None:
    with pytest.raises(SynthesisError, match="espeak-ng failed"):
        EspeakSynthesizer(voices={"id": "xx"}).synthesize("halo", "id", tmp_path / "x.wav")
    slow = tmp_path / "slow-espeak"
    slow.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo 1.0; exit 0; fi\nsleep 5\n')
    slow.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(SynthesisError, match="longer than"):
        EspeakSynthesizer(binary=str(slow), timeout=0.3).synthesize("halo", "id", tmp_path / "y.wav")
    assert time.monotonic() - started < 2.0
    silent = tmp_path / "silent-espeak"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    with pytest.raises(SynthesisError, match="no audio"):
        EspeakSynthesizer(binary=str(silent)).synthesize("halo", "id", tmp_path / "z.wav")
    s = EspeakSynthesizer()
    for bad_text, lang in [("", "id"), ("   ", "id"), ("halo", "fr"), ("x" * 1001, "id")]:
        with pytest.raises(SynthesisError):
            s.synthesize(bad_text, lang, tmp_path / "w.wav")


def test_tone_backend(tmp_path: Path) -> None:
    s = create_synthesizer("tone")
    assert isinstance(s, ToneSynthesizer)
    out = s.synthesize(STANDARD.text, "id", tmp_path / "tone.wav")
    sound = audio.read_wav(out)
    # One beep per word: the silences between beeps are one fewer than the words.
    assert len(audio.silent_runs(sound)) == len(STANDARD.words) - 1
    assert 1.5 < sound.duration < 4.0
    assert audio.rms(sound) > 0.1
    # Longer pauses where the sentence has commas (two in the standard sentence).
    assert sum(1 for a, b in audio.silent_runs(sound) if b - a > 0.2) == 2
    again = s.synthesize(STANDARD.text, "id", tmp_path / "again.wav")
    assert again.read_bytes() == out.read_bytes()  # deterministic
    other = s.synthesize("Nomor antrian be, tiga belas, silakan menuju loket tiga", "id", tmp_path / "b.wav")
    assert other.read_bytes() != out.read_bytes()
    with pytest.raises(SynthesisError):
        s.synthesize("...", "id", tmp_path / "none.wav")


def test_registry_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"pyttsx3", "espeak", "tone"} <= set(synth.backend_names())
    with pytest.raises(ValueError, match="unknown speech backend"):
        create_synthesizer("festival")

    def broken(**_options: object) -> synth.Synthesizer:
        raise SynthesisError("no sound card in this test")

    monkeypatch.setitem(synth._BACKENDS, "broken", broken)
    monkeypatch.setitem(synth.FALLBACKS, "broken", ("tone",))
    assert isinstance(create_synthesizer("broken"), ToneSynthesizer)
    with pytest.raises(SynthesisError, match="no speech backend"):
        create_synthesizer("broken", fallback=False)


@needs_espeak
def test_pyttsx3_that_cannot_start_falls_back_to_espeak() -> None:
    code = (
        "import sys; sys.modules['pyttsx3'] = None\n"
        "from speech.synth import create_synthesizer\n"
        "s = create_synthesizer('pyttsx3')\n"
        "print(s.name)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "espeak"
    assert "pyttsx3 cannot start" in done.stderr
