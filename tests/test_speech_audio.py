"""WAV utilities, measured on real samples."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

from speech import audio
from speech.audio import Audio


def _sine(freq: float, seconds: float, rate: int = 22050, level: float = 0.5, phase: float = 0.0) -> Audio:
    n = round(seconds * rate)
    amp = level * 32767
    return Audio(array("h", (round(amp * math.sin(2 * math.pi * freq * i / rate + phase)) for i in range(n))), rate)


def _goertzel(samples: array, rate: int, freq: float) -> float:
    """Relative power of ``freq`` in ``samples`` (an independent single-bin DFT)."""
    w = 2 * math.pi * freq / rate
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (len(samples) ** 2)


def _zero_crossings(samples: array) -> int:
    return sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))


def _riff(fmt_tag: int, channels: int, rate: int, bits: int, data: bytes, *, data_size: int | None = None,
          extensible: bool = False, extra_chunk: bool = False) -> bytes:
    """A WAV written by hand, independently of the code under test."""
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", fmt_tag) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        body += b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\x00"  # odd size, padded
    size = len(data) if data_size is None else data_size
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_write_and_read_back(tmp_path: Path) -> None:
    sound = _sine(440, 0.5)
    path = audio.write_wav(tmp_path / "a.wav", sound)
    with wave.open(str(path)) as w:  # the standard reader agrees with the header
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 22050, 11025)
    back = audio.read_wav(path)
    assert back.samples == sound.samples and back.rate == 22050
    info = audio.read_wav_info(path)
    assert info.frames == 11025 and not info.header_is_wrong
    assert audio.duration_of(path) == pytest.approx(0.5)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_stdout_placeholder_length(tmp_path: Path) -> None:
    raw = subprocess.run(
        ["espeak-ng", "-v", "id", "--stdout", "Nomor antrian a, dua belas"], capture_output=True, check=True
    ).stdout
    path = tmp_path / "stdout.wav"
    path.write_bytes(raw)
    true_frames = (len(raw) - 44) // 2
    with wave.open(str(path)) as w:
        header_frames = w.getnframes()
    assert header_frames > 100 * true_frames  # the placeholder: hours of audio
    info = audio.read_wav_info(path)
    assert info.header_is_wrong
    assert info.frames == true_frames
    assert 1.0 < audio.duration_of(path) < 4.0
    assert audio.rms(audio.read_wav(path)) > 0.02


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF, 10**9])
def test_streamed_header_sizes(tmp_path: Path, size: int) -> None:
    data = array("h", range(-500, 500, 5)).tobytes()
    path = tmp_path / "s.wav"
    path.write_bytes(_riff(1, 1, 16000, 16, data, data_size=size))
    a = audio.read_wav(path, canonical=False)
    assert list(a.samples) == list(range(-500, 500, 5))
    assert audio.read_wav_info(path).frames == 200


def test_formats_are_converted(tmp_path: Path) -> None:
    values = [0, 1000, -1000, 32767, -32768, 12345]
    cases = {
        "u8": (1, 8, bytes((v >> 8) + 128 for v in values), [(v >> 8) << 8 for v in values]),
        "s16": (1, 16, array("h", values).tobytes(), values),
        "s24": (1, 24, b"".join((v * 256).to_bytes(3, "little", signed=True) for v in values), values),
        "s32": (1, 32, array("i", [v * 65536 for v in values]).tobytes(), values),
        "f32": (3, 32, array("f", [v / 32767 for v in values]).tobytes(), [max(-32768, v) for v in values]),
    }
    for name, (tag, bits, data, expected) in cases.items():
        path = tmp_path / f"{name}.wav"
        path.write_bytes(_riff(tag, 1, 22050, bits, data))
        got = list(audio.read_wav(path).samples)
        assert got == pytest.approx(expected, abs=1), name
    # Extensible header, stereo: channels are averaged.
    left, right = [1000, 2000, -4000], [3000, 0, 4000]
    inter = array("h", [x for pair in zip(left, right, strict=True) for x in pair]).tobytes()
    path = tmp_path / "ext.wav"
    path.write_bytes(_riff(1, 2, 22050, 16, inter, extensible=True, extra_chunk=True))
    assert list(audio.read_wav(path).samples) == [2000, 1000, 0]


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav at all")
    with pytest.raises(audio.WavError):
        audio.read_wav(bad)
    bad.write_bytes(_riff(2, 1, 22050, 4, b"\x00" * 10))  # MS ADPCM
    with pytest.raises(audio.WavError, match="format"):
        audio.read_wav(bad)
    bad.write_bytes(_riff(1, 1, 22050, 16, b"")[: 12 + 8 + 16])  # no data chunk
    with pytest.raises(audio.WavError, match="no data"):
        audio.read_wav(bad)


@pytest.mark.parametrize(("src_rate", "freq"), [(44100, 1000.0), (48000, 440.0), (8000, 1000.0), (16000, 300.0)])
def test_resample_keeps_pitch_length_and_level(tmp_path: Path, src_rate: int, freq: float) -> None:
    src = _sine(freq, 1.0, rate=src_rate)
    out = audio.to_canonical(src)
    assert out.rate == 22050
    assert out.duration == pytest.approx(1.0, abs=0.001)
    assert _zero_crossings(out.samples) == pytest.approx(2 * freq, abs=3)
    # Linear interpolation loses a little at 1/8 of the source rate (8 kHz case).
    assert audio.rms(out) == pytest.approx(audio.rms(src), rel=0.07)
    # Through a file, as a 44.1 kHz stereo recorder would write it.
    if src_rate == 44100:
        stereo = array("h", [s for s in src.samples for _ in (0, 1)]).tobytes()
        path = tmp_path / "rec.wav"
        path.write_bytes(_riff(1, 2, 44100, 16, stereo))
        assert audio.read_wav(path).samples == out.samples


def test_rms_and_peak() -> None:
    s = _sine(1000, 1.0, level=0.5)
    assert audio.rms(s) == pytest.approx(0.5 / math.sqrt(2), rel=0.01)
    assert audio.peak(s) == pytest.approx(0.5, rel=0.01)
    assert audio.rms(audio.silence(0.5)) == 0.0
    assert audio.peak(audio.normalize_peak(s, 0.7)) == pytest.approx(0.7, rel=0.01)


def test_trim_silence() -> None:
    beep = audio.tone(800, 0.3)
    sound, _ = audio.concatenate([audio.silence(0.5), beep, audio.silence(0.7)], 0)
    trimmed = audio.trim_silence(sound, margin_s=0.02)
    assert trimmed.duration == pytest.approx(0.3 + 0.04, abs=0.012)
    assert audio.rms(trimmed) > 0.25
    assert len(audio.trim_silence(audio.silence(1.0))) == 0
    # A noise floor below 2 % of the clip's peak counts as silence.
    noisy = Audio(array("h", ((150 if i % 2 else -150) for i in range(11025))), 22050)
    sound, _ = audio.concatenate([noisy, audio.tone(800, 0.3, level=0.8), noisy], 0)
    assert audio.trim_silence(sound).duration == pytest.approx(0.34, abs=0.012)


def test_fade_removes_the_edge_click() -> None:
    cut = _sine(1000, 0.2, phase=math.pi / 2)  # starts and ends at full swing
    assert abs(cut.samples[0]) > 16000
    faded = audio.fade(cut)
    assert faded.samples[0] == 0 and abs(faded.samples[-1]) < 200
    # The click metric sees a cut join and not a faded one.
    raw_join, raw_joins = audio.concatenate([cut, cut], 0.05)
    faded_join, faded_joins = audio.concatenate([faded, faded], 0.05)
    assert audio.max_click_at(raw_join, raw_joins) > 15000
    assert audio.max_click_at(faded_join, faded_joins) < 300


def test_concatenate_gaps_and_joins() -> None:
    beep = audio.tone(600, 0.2)
    joined, joins = audio.concatenate([beep, beep, beep], [0.06, 0.25])
    assert joined.duration == pytest.approx(0.2 * 3 + 0.31, abs=0.001)
    assert joins == [4410, 4410 + 1323, 2 * 4410 + 1323, 2 * 4410 + 1323 + 5512]
    runs = audio.silent_runs(joined)
    assert len(runs) == 2
    assert audio.longest_silence(joined) == pytest.approx(0.25, abs=0.02)
    with pytest.raises(ValueError):
        audio.concatenate([beep, _sine(600, 0.1, rate=44100)])
    with pytest.raises(ValueError):
        audio.concatenate([beep, beep], [0.1, 0.1])


def test_chime_is_a_clean_ding_dong() -> None:
    c = audio.chime()
    assert c.rate == 22050
    assert 1.3 < c.duration < 1.6
    assert audio.peak(c) == pytest.approx(0.5, abs=0.01)
    assert audio.rms(c) > 0.05
    assert c.samples[0] == 0 and c.samples[-1] == 0
    assert audio.click_at(c, 0) < 100 and audio.click_at(c, len(c) - 1) < 100
    # "ding" (E5) first, then "dong" (C5).
    ding = c.samples[int(0.05 * 22050) : int(0.40 * 22050)]
    dong = c.samples[int(0.75 * 22050) : int(1.10 * 22050)]
    assert _goertzel(ding, 22050, 659.25) > 20 * _goertzel(ding, 22050, 523.25)
    assert _goertzel(dong, 22050, 523.25) > 5 * _goertzel(dong, 22050, 659.25)
    assert audio.chime().samples == c.samples  # deterministic


def test_tone_has_no_clicks() -> None:
    t = audio.tone(880, 0.1)
    assert t.samples[0] == 0 and abs(t.samples[-1]) < 100
    assert t.duration == pytest.approx(0.1, abs=0.001)


# --------------------------------------------------------------------------- whole-buffer arithmetic
# The C-speed paths are checked against the obvious per-sample definitions, written out here.


def _speechlike(seconds: float, seed: int, level: float = 0.4) -> Audio:
    """Noise bursts under a slow envelope with silence at both ends, like a synthesized sentence."""
    import random

    rng = random.Random(seed)
    n = round(seconds * 22050)
    lead = n // 10
    out = array("h", bytes(2 * n))
    for i in range(lead, n - lead):
        env = abs(math.sin(math.pi * (i - lead) / (n - 2 * lead) * 7))
        out[i] = round(level * 32767 * env * (0.6 * math.sin(i / 3.1) + 0.4 * (rng.random() * 2 - 1)))
    return Audio(out, 22050)


def _gain_reference(samples: array, factor: float) -> list[int]:
    return [max(-32768, min(32767, round(s * factor))) for s in samples]


@pytest.mark.parametrize("factor", [0.0, 0.25, 0.7, 1.0, 1.7, 2.3456, 7.0])
def test_gain_matches_the_per_sample_definition(factor: float) -> None:
    sound = _speechlike(0.5, seed=int(factor * 1000))
    got = audio.gain(sound, factor)
    expected = _gain_reference(sound.samples, factor)
    assert len(got.samples) == len(expected)
    assert max(abs(a - b) for a, b in zip(got.samples, expected, strict=True)) <= 1  # halves round up here


def test_gain_across_blocks_matches_the_definition() -> None:
    sound = _speechlike(3.2, seed=9)  # 70,560 samples: a full block of the whole-buffer work and a partial one
    assert len(sound) > audio._BLOCK
    got = audio.gain(sound, 1.3)
    assert max(abs(a - b) for a, b in zip(got.samples, _gain_reference(sound.samples, 1.3), strict=True)) <= 1


def test_gain_clips_and_negates_like_the_definition() -> None:
    sound = _speechlike(0.3, seed=7, level=0.9)
    for factor in (3.0, -1.0, -0.5):  # clips; negative: the plain path
        got = audio.gain(sound, factor)
        assert list(got.samples) == _gain_reference(sound.samples, factor), factor
    edge = Audio(array("h", [32767, -32768, 0, 1, -1] * 500), 22050)
    assert list(audio.gain(edge, 1.0).samples) == list(edge.samples)
    assert list(audio.gain(edge, 0.5).samples) == pytest.approx(_gain_reference(edge.samples, 0.5), abs=1)


def test_extremes_are_exact() -> None:
    import random

    rng = random.Random(3)
    cases = [
        _speechlike(1.0, seed=1),
        Audio(array("h", [rng.randint(-300, 300) for _ in range(5000)]), 22050),
        Audio(array("h", [32767] * 3000 + [-32768] * 3000), 22050),  # clipped: many at the top
        Audio(array("h", [-5] * 4000), 22050),  # constant
        Audio(array("h", [rng.randint(-32768, 32767) for _ in range(3000)]), 22050),
        Audio(array("h", [3, -9, 4]), 22050),
    ]
    for sound in cases:
        assert audio.extremes(sound) == (max(sound.samples), min(sound.samples))
    assert audio.extremes(Audio(array("h"), 22050)) == (0, 0)


def _trim_reference(sound: Audio, threshold: float = 0.01, relative: float = 0.02, window_s: float = 0.005,
                    margin_s: float = 0.02) -> list[int]:
    window = max(1, round(window_s * sound.rate))
    s = sound.samples
    peaks = [max(abs(x) for x in s[i : i + window]) for i in range(0, len(s), window)]
    level = max(threshold * 32767, relative * max(peaks))
    loud = [i for i, p in enumerate(peaks) if p > level]
    if not loud:
        return []
    margin = round(margin_s * sound.rate)
    return list(s[max(0, loud[0] * window - margin) : min(len(s), (loud[-1] + 1) * window + margin)])


def test_trim_silence_matches_the_window_definition() -> None:
    for seed in range(4):
        sound = _speechlike(0.8, seed=seed)
        assert list(audio.trim_silence(sound).samples) == _trim_reference(sound)
    tail = Audio(array("h", [0] * 1000 + [5000] * 3 + [0] * 7), 22050)  # sound in a short last window
    assert list(audio.trim_silence(tail).samples) == _trim_reference(tail)


def test_integer_formats_by_slicing_match_the_definitions(tmp_path: Path) -> None:
    import random

    rng = random.Random(11)
    frames = audio._BLOCK + 3001  # a full block of the whole-buffer work and a partial one
    left = [rng.randint(-32768, 32767) for _ in range(frames)] + [-1, 1, -32768, 32767]
    right = [rng.randint(-32768, 32767) for _ in range(frames)] + [0, 0, -32768, 32767]
    inter = array("h", [x for pair in zip(left, right, strict=True) for x in pair]).tobytes()
    path = tmp_path / "stereo.wav"
    path.write_bytes(_riff(1, 2, 22050, 16, inter))
    assert list(audio.read_wav(path).samples) == [(a + b) // 2 for a, b in zip(left, right, strict=True)]
    wide = [rng.randint(-(2**23), 2**23 - 1) for _ in range(2000)] + [-(2**23), 2**23 - 1, -1, 0]
    path.write_bytes(_riff(1, 1, 22050, 24, b"".join(v.to_bytes(3, "little", signed=True) for v in wide)))
    assert list(audio.read_wav(path).samples) == [v >> 8 for v in wide]
    stereo24 = b"".join(v.to_bytes(3, "little", signed=True) for v in wide)
    path.write_bytes(_riff(1, 2, 22050, 24, stereo24))  # 24-bit stereo: the pairs averaged
    assert list(audio.read_wav(path).samples) == [((a >> 8) + (b >> 8)) // 2 for a, b in zip(wide[0::2], wide[1::2],
                                                                                                strict=True)]


def test_preparing_a_sentence_costs_little_cpu() -> None:
    """Trim, level, fade and join 4.5 s of speech after the chime: a few ms, not a loop over every sample.

    Judged by the CPU time of this thread (other load on the machine barely moves it).  The per-sample
    Python loops this replaced took 60-150 ms; the budget is far above what the C-speed paths take.
    """
    import time

    from speech import clips

    sound = _speechlike(4.5, seed=5, level=0.3)
    clips.prepare_piece(sound)  # warm: imports, the chime
    audio.chime(level=clips.CHIME_LEVEL)
    best = float("inf")
    for _ in range(3):
        t0 = time.thread_time()
        piece = clips.prepare_piece(sound)
        audio.concatenate([audio.chime(level=clips.CHIME_LEVEL), piece], clips.CHIME_GAP_S)
        best = min(best, time.thread_time() - t0)
    assert best < 0.030, f"{best * 1000:.1f} ms of CPU"
