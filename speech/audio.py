"""WAV utilities on the standard library alone (no numpy on the Pis).

Every sound Antre plays is brought to one canonical format, 22050 Hz mono
16-bit PCM (espeak-ng's native format), so clips from any recorder can be
joined sample by sample.

Whole-buffer work runs at C speed (see "Whole-buffer arithmetic" below):
a call's audio is joined in a few milliseconds, not the 50-150 ms of CPU a
loop over every sample in Python costs, on the two cores the server shares
with every ticket request.

Reading does not trust the header's lengths: ``espeak-ng --stdout`` writes a
placeholder (0x7FFFF000-ish) as the RIFF and data sizes because it cannot seek
back on a pipe, and ``wave`` would report a nonsense frame count.  Durations
here are always computed from the samples actually present.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import struct
import sys
import uuid
import wave
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CANONICAL_RATE = 22050
FULL_SCALE = 32767
MAX_WAV_BYTES = 64 * 1024 * 1024

# WAVE format tags.
_PCM = 0x0001
_FLOAT = 0x0003
_EXTENSIBLE = 0xFFFE

# Defaults shared by the joiners and their tests.
SILENCE_THRESHOLD = 0.01  # of full scale (-40 dBFS): below this a 5 ms window is silent
FADE_S = 0.005


class WavError(ValueError):
    """A file is not a WAV this module can read."""


@dataclass
class Audio:
    """Mono signed 16-bit samples at ``rate`` Hz."""

    samples: array
    rate: int = CANONICAL_RATE

    def __post_init__(self) -> None:
        if self.samples.typecode != "h":
            raise TypeError("Audio samples must be array('h')")
        if self.rate <= 0:
            raise ValueError("sample rate must be positive")

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def duration(self) -> float:
        """Seconds, from the number of samples."""
        return len(self.samples) / self.rate

    def copy(self) -> Audio:
        return Audio(array("h", self.samples), self.rate)


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file holds; ``frames`` is counted from the data present."""

    rate: int
    channels: int
    sample_width: int
    float_samples: bool
    frames: int
    header_frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    @property
    def header_is_wrong(self) -> bool:
        """True when the header's data length disagrees with the data present."""
        return self.header_frames != self.frames


def _parse(data: bytes) -> tuple[WavInfo, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + size > len(data):
                raise WavError("truncated fmt chunk")
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", data, body
            )
            if tag == _EXTENSIBLE:
                if size < 40:
                    raise WavError("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk")
                (tag,) = struct.unpack_from("<H", data, body + 24)
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            tag, channels, rate, bits = fmt
            if tag not in (_PCM, _FLOAT):
                raise WavError(f"unsupported WAV sample format 0x{tag:04x} (PCM or float only)")
            if channels < 1 or rate < 1 or bits % 8 or not 8 <= bits <= 64:
                raise WavError(f"unsupported WAV layout: {channels} ch, {rate} Hz, {bits} bit")
            if tag == _FLOAT and bits not in (32, 64):
                raise WavError(f"unsupported float width {bits}")
            if tag == _PCM and bits not in (8, 16, 24, 32):
                raise WavError(f"unsupported PCM width {bits}")
            frame_bytes = channels * bits // 8
            available = len(data) - body
            # A streaming writer (espeak-ng --stdout) cannot fill in the length:
            # it leaves 0, 0xFFFFFFFF or a guess.  Take the data that is there.
            length = available if size == 0 or size > available else size
            length -= length % frame_bytes
            info = WavInfo(
                rate=rate,
                channels=channels,
                sample_width=bits // 8,
                float_samples=tag == _FLOAT,
                frames=length // frame_bytes,
                header_frames=size // frame_bytes,
            )
            return info, data[body : body + length]
        offset = body + size + (size & 1)
    raise WavError("no data chunk")


def _load(path: Path) -> bytes:
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_WAV_BYTES:
        raise WavError(f"{path} is {size} bytes; clips over {MAX_WAV_BYTES} bytes are refused")
    return path.read_bytes()


def read_wav_info(path: Path) -> WavInfo:
    """Format and true length of a WAV file."""
    return _parse(_load(path))[0]


def duration_of(path: Path) -> float:
    """Duration in seconds from the samples present (never from the header)."""
    return read_wav_info(path).duration


def _to_mono16(info: WavInfo, raw: bytes) -> array:
    width, channels = info.sample_width, info.channels
    if info.float_samples:
        values = array("f" if width == 4 else "d", raw)
        if sys.byteorder == "big":
            values.byteswap()
        ints = array("h", (max(-32768, min(32767, round(v * FULL_SCALE))) for v in values))
    else:
        # Integer PCM of any width: byte slicing only (no loop over samples).
        pcm = _pcm16_le(raw, width)
        if channels == 2:
            return _from_le(_average_stereo_le(pcm))
        ints = _from_le(pcm)
    if channels == 1:
        return ints
    frames = len(ints) // channels
    columns = [ints[c::channels][:frames] for c in range(channels)]
    return array("h", (sum(frame) // channels for frame in zip(*columns, strict=True)))


def _pcm16_le(raw: bytes, width: int) -> bytes:
    """Integer PCM of ``width`` bytes per sample (little-endian, as in a WAV) as 16-bit LE.

    Keeps the top 16 bits of every sample (an arithmetic shift of wider
    samples, a shift up of 8-bit ones), by slicing bytes.
    """
    if width == 2:
        return raw[: len(raw) - len(raw) % 2]
    n = len(raw) // width
    out = bytearray(2 * n)
    if width == 1:  # unsigned 8-bit: (u - 128) << 8
        out[1::2] = raw[:n].translate(_FLIP)
    else:  # 24/32-bit signed: the two most significant bytes of each sample
        out[0::2] = raw[width - 2 : n * width : width]
        out[1::2] = raw[width - 1 : n * width : width]
    return bytes(out)


def _average_stereo_le(pcm: bytes) -> bytes:
    """Interleaved 16-bit LE stereo to mono: ``floor((left + right) / 2)`` per frame."""
    out = bytearray()
    usable = len(pcm) - len(pcm) % 4
    for start in range(0, usable, 4 * _BLOCK):
        block = pcm[start : min(usable, start + 4 * _BLOCK)]
        frames = len(block) // 4
        left = _to_fields(block[0::4], block[1::4], frames)
        right = _to_fields(block[2::4], block[3::4], frames)
        # (l + 32768) + (r + 32768) >> 1 is floor((l + r) / 2) + 32768 in every field's low 16 bits (the
        # shift moves the neighbour field's lowest bit into this field's bit 31, never read).
        out += _from_fields((left + right) >> 1, frames, 0)
    return bytes(out)


def read_wav(path: Path, *, canonical: bool = True) -> Audio:
    """Read any PCM/float WAV as mono 16-bit; resampled to 22050 Hz if ``canonical``."""
    info, raw = _parse(_load(path))
    audio = Audio(_to_mono16(info, raw), info.rate)
    return to_canonical(audio) if canonical else audio


def write_wav(path: Path, audio: Audio) -> Path:
    """Write 16-bit PCM mono with a correct header."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes(_le_bytes(audio.samples))
    return Path(path)


def publish_wav(path: Path, audio: Audio) -> Path:
    """Write ``audio`` to ``path`` whole or not at all: a temporary file, fsync'd, then renamed over it.

    The temporary name ends in ``.tmp.wav`` (what the cache's pruning removes when stale).
    """
    path = Path(path)
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp.wav")
    try:
        write_wav(tmp, audio)
        with open(tmp, "rb") as fh:  # whole on disk before it has its name, even across a power cut
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def resample(audio: Audio, rate: int) -> Audio:
    """Change the sample rate.

    Downsampling averages each output sample's source interval (a box
    filter that keeps most aliasing out of speech); upsampling interpolates
    linearly.  Good enough for voice clips, and pure Python.
    """
    src = audio.samples
    if rate == audio.rate or not src:
        return Audio(array("h", src), rate)
    n_out = max(1, round(len(src) * rate / audio.rate))
    step = audio.rate / rate
    last = len(src) - 1
    if step > 1:
        cum = [0]
        total = 0
        for s in src:
            total += s
            cum.append(total)

        def integral(x: float) -> float:
            i = int(x)
            if i >= len(src):
                return float(cum[-1])
            return cum[i] + (x - i) * src[i]

        out = array("h")
        for k in range(n_out):
            a = k * step
            b = min(a + step, float(len(src)))
            if b <= a:
                out.append(src[last])
                continue
            v = round((integral(b) - integral(a)) / (b - a))
            out.append(max(-32768, min(32767, v)))
        return Audio(out, rate)
    out = array("h")
    for k in range(n_out):
        x = k * step
        i = int(x)
        if i >= last:
            out.append(src[last])
            continue
        frac = x - i
        out.append(round(src[i] + (src[i + 1] - src[i]) * frac))
    return Audio(out, rate)


def to_canonical(audio: Audio) -> Audio:
    """22050 Hz mono 16-bit (mono and 16-bit are already guaranteed by :class:`Audio`)."""
    return resample(audio, CANONICAL_RATE) if audio.rate != CANONICAL_RATE else audio


def silence(seconds: float, rate: int = CANONICAL_RATE) -> Audio:
    return Audio(array("h", bytes(2 * max(0, round(seconds * rate)))), rate)


# --------------------------------------------------------------------------- whole-buffer arithmetic
#
# The standard library has no vector arithmetic on samples (and the Pis have
# no numpy), but Python's integers do exact arithmetic of any length in C.  n
# samples are laid out as ONE integer of n 32-bit fields, field i holding
# sample i plus 32768 (so that every field is non-negative); one
# multiplication by a fixed-point factor then scales every sample at once and
# one addition adds the same constant to every field, exact as long as each
# field's final value fits its 32 bits.  Bytes go into and out of the fields
# by extended slicing, also in C.  Scaling 100,000 samples (4.5 s) this way
# takes about 4 ms here; a Python loop over them took about 50.

_FIELD = 4  # bytes per field
_FRAC = 16  # fixed-point fraction bits of a gain factor: field = round(s * factor) + 32768 in bits 16..31
_FLIP = bytes(b ^ 0x80 for b in range(256))  # a sample's high byte: two's complement <-> offset binary
_ONE_FIELD = b"\x01" + bytes(_FIELD - 1)
_BLOCK = 1 << 16  # samples per block of whole-buffer work (256 KB of fields)


def _le_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _from_le(pcm: bytes | bytearray) -> array:
    out = array("h", pcm)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _to_fields(low: bytes, high: bytes, n: int) -> int:
    """The integer whose field i is ``sample_i + 32768``, from the samples' low and high bytes."""
    wide = bytearray(n * _FIELD)
    wide[0::_FIELD] = low
    wide[1::_FIELD] = high.translate(_FLIP)
    return int.from_bytes(wide, "little")


def _from_fields(value: int, n: int, shift_bytes: int) -> bytes:
    """16-bit LE samples from the offset-binary 16 bits at ``shift_bytes`` of every field."""
    raw = value.to_bytes(n * _FIELD, "little")  # OverflowError if a field overflowed (never expected)
    out = bytearray(2 * n)
    out[0::2] = raw[shift_bytes : n * _FIELD : _FIELD]
    out[1::2] = raw[shift_bytes + 1 : n * _FIELD : _FIELD].translate(_FLIP)
    return bytes(out)


def _scale_fast(samples: array, factor: float, hi: int, lo: int) -> array | None:
    """``round(s * factor)`` of every sample at C speed, or None when a result would clip.

    ``hi``/``lo`` are the largest and smallest sample (or bounds of them).
    The factor is used to 1/65536 (for the usual factors, 0.3 to 3, within
    0.003 % of the one asked); halves round up.  Works through blocks of
    :data:`_BLOCK` samples, so a long clip needs no more memory than a short one.
    """
    k = round(factor * (1 << _FRAC))
    half = 1 << (_FRAC - 1)
    limit = 32768 << _FRAC
    if k < 0 or hi * k + half >= limit or lo * k + half < -limit:
        return None
    pcm = _le_bytes(samples)
    # (s + 32768) * k + bias = s * k + 32768 * 2**16 + 2**15: in [0, 2**32) when nothing clips,
    # and its bits 16..31 are round(s * factor) + 32768.
    bias = limit - 32768 * k + half
    offsets: dict[int, int] = {}  # block length -> bias in every field
    out = bytearray()
    for start in range(0, len(pcm), 2 * _BLOCK):
        block = pcm[start : start + 2 * _BLOCK]
        n = len(block) // 2
        if n not in offsets:
            offsets[n] = bias * int.from_bytes(_ONE_FIELD * n, "little")
        value = _to_fields(block[0::2], block[1::2], n) * k + offsets[n]
        out += _from_fields(value, n, _FRAC // 8)
    return _from_le(out)


def extremes(audio: Audio) -> tuple[int, int]:
    """(largest, smallest) sample; (0, 0) for no samples.

    The samples' high bytes, in offset binary, sort like the samples: the
    largest sample is among those with the largest high byte, which a few
    ``find`` calls (memchr) locate without a Python step per sample.
    """
    samples = audio.samples
    if len(samples) < 2048:
        return (max(samples), min(samples)) if samples else (0, 0)
    high = _le_bytes(samples)[1::2].translate(_FLIP)
    return _extreme(samples, high, range(255, -1, -1), max), _extreme(samples, high, range(256), min)


def _extreme(samples: array, high: bytes, order: Iterable[int], pick: Callable[[Iterable[int]], int]) -> int:
    """``pick`` (max or min) of the samples whose high byte comes first in ``order``."""
    for byte in order:
        mark = bytes((byte,))
        at = high.find(mark)
        found: list[int] = []
        while at >= 0:
            found.append(samples[at])
            if len(found) > 512:  # a clipped or constant stretch: one plain pass is quicker
                return pick(samples)
            at = high.find(mark, at + 1)
        if found:
            return pick(found)
    raise AssertionError("every sample has a high byte")


def peak(audio: Audio) -> float:
    """Largest absolute sample, as a fraction of full scale."""
    hi, lo = extremes(audio)
    return max(hi, -lo) / FULL_SCALE


def rms(audio: Audio) -> float:
    """Root mean square level as a fraction of full scale (0 for silence)."""
    if not audio.samples:
        return 0.0
    return math.sqrt(sum(map(operator.mul, audio.samples, audio.samples)) / len(audio.samples)) / FULL_SCALE


def gain(audio: Audio, factor: float, *, bounds: tuple[int, int] | None = None) -> Audio:
    """Every sample times ``factor``, rounded, clipped to 16 bits.

    ``bounds`` are (largest, smallest) sample when the caller knows them
    (bounds of them suffice), saving a pass over the samples.
    """
    if not audio.samples:
        return Audio(array("h"), audio.rate)
    hi, lo = bounds if bounds is not None else extremes(audio)
    fast = _scale_fast(audio.samples, factor, hi, lo)
    if fast is not None:
        return Audio(fast, audio.rate)
    # Clipping (or a negative factor): rare, so the plain loop.
    return Audio(
        array("h", (max(-32768, min(32767, round(s * factor))) for s in audio.samples)),
        audio.rate,
    )


def normalize_peak(audio: Audio, target: float = 0.7, *, bounds: tuple[int, int] | None = None) -> Audio:
    """Scale so the largest sample is ``target`` of full scale (silence stays silent).

    ``bounds``: the (largest, smallest) sample when known (see :func:`gain`).
    """
    hi, lo = bounds if bounds is not None else extremes(audio)
    current = max(hi, -lo) / FULL_SCALE
    if current == 0:  # silence, or no samples at all
        return audio.copy()
    return gain(audio, target / current, bounds=(hi, lo))


def _window_peaks(samples: array, window: int) -> list[int]:
    return [
        max(max(chunk), -min(chunk))
        for chunk in (samples[i : i + window] for i in range(0, len(samples), window))
        if chunk
    ]


def _first_loud(samples: array, window: int, level: float, starts: Iterable[int]) -> int | None:
    """Start of the first window (in the order of ``starts``) whose peak exceeds ``level``."""
    for start in starts:
        chunk = samples[start : start + window]
        if max(chunk) > level or -min(chunk) > level:
            return start
    return None


def trim_silence(
    audio: Audio,
    threshold: float = SILENCE_THRESHOLD,
    *,
    relative: float = 0.02,
    window_s: float = 0.005,
    margin_s: float = 0.02,
    bounds: tuple[int, int] | None = None,
) -> Audio:
    """Cut leading and trailing silence.

    A window is sound when its peak exceeds ``threshold`` of full scale or
    ``relative`` times the clip's own peak, whichever is higher (so a
    recording with a noise floor is still trimmed).  ``margin_s`` of the
    quiet part is kept before the first and after the last sound so that
    soft onsets ("s" of "silakan") are not clipped.  Only the windows at
    the two ends are looked at, up to the first sound from either side.
    ``bounds``: the (largest, smallest) sample when known.
    """
    samples = audio.samples
    if not samples:
        return audio.copy()
    window = max(1, round(window_s * audio.rate))
    hi, lo = bounds if bounds is not None else extremes(audio)
    level = max(threshold * FULL_SCALE, relative * max(hi, -lo))
    starts = range(0, len(samples), window)
    first = _first_loud(samples, window, level, starts)
    if first is None:
        return Audio(array("h"), audio.rate)
    last = _first_loud(samples, window, level, reversed(starts))
    assert last is not None  # the forward scan found a loud window
    margin = round(margin_s * audio.rate)
    start = max(0, first - margin)
    end = min(len(samples), last + window + margin)
    return Audio(samples[start:end], audio.rate)


def fade(audio: Audio, fade_in_s: float = FADE_S, fade_out_s: float = FADE_S) -> Audio:
    """Raised-cosine fade-in and fade-out so a cut edge does not click."""
    out = array("h", audio.samples)
    n = len(out)
    for length, at_start in ((round(fade_in_s * audio.rate), True), (round(fade_out_s * audio.rate), False)):
        length = min(length, n // 2)
        for i in range(length):
            g = 0.5 - 0.5 * math.cos(math.pi * i / length)
            j = i if at_start else n - 1 - i
            out[j] = round(out[j] * g)
    return Audio(out, audio.rate)


def concatenate(
    pieces: Sequence[Audio], gap_s: float | Sequence[float] = 0.06
) -> tuple[Audio, list[int]]:
    """Join ``pieces`` with silence between them.

    ``gap_s`` is one gap for every join or one per join.  Returns the joined
    audio and the sample positions of every join edge (where a piece ends
    and where the next begins), for :func:`max_click_at`.
    """
    if not pieces:
        raise ValueError("nothing to concatenate")
    rate = pieces[0].rate
    if any(p.rate != rate for p in pieces):
        raise ValueError("pieces have different sample rates; convert them first")
    gaps = [gap_s] * (len(pieces) - 1) if isinstance(gap_s, int | float) else list(gap_s)
    if len(gaps) != len(pieces) - 1:
        raise ValueError(f"{len(pieces)} pieces need {len(pieces) - 1} gaps, got {len(gaps)}")
    out = array("h")
    joins: list[int] = []
    for i, piece in enumerate(pieces):
        if i:
            joins.append(len(out))
            out.extend(silence(gaps[i - 1], rate).samples)
            if gaps[i - 1] > 0:
                joins.append(len(out))
        out.extend(piece.samples)
    return Audio(out, rate), joins


def click_at(audio: Audio, position: int, window: int = 8) -> int:
    """Largest jump between neighbouring samples within ``window`` of ``position``.

    A cut through a waveform shows as one sample-to-sample jump of the
    waveform's amplitude; a faded join is near silence for the first and
    last few samples.  The window (8 samples, 0.4 ms) is kept short so the
    ordinary slope of the sound beyond the fade is not counted.
    """
    s = audio.samples
    lo = max(0, position - window)
    hi = min(len(s) - 1, position + window)
    return max((abs(s[i + 1] - s[i]) for i in range(lo, hi)), default=0)


def max_click_at(audio: Audio, positions: Sequence[int], window: int = 8) -> int:
    return max((click_at(audio, p, window) for p in positions), default=0)


def silent_runs(
    audio: Audio, threshold: float = SILENCE_THRESHOLD, window_s: float = 0.005
) -> list[tuple[float, float]]:
    """(start, end) seconds of each silent stretch between the first and last sound."""
    window = max(1, round(window_s * audio.rate))
    level = threshold * FULL_SCALE
    peaks = _window_peaks(audio.samples, window)
    loud = [i for i, p in enumerate(peaks) if p > level]
    if not loud:
        return []
    runs: list[tuple[float, float]] = []
    start: int | None = None
    for i in range(loud[0], loud[-1] + 1):
        if peaks[i] <= level:
            if start is None:
                start = i
        elif start is not None:
            runs.append((start * window / audio.rate, i * window / audio.rate))
            start = None
    return runs


def longest_silence(audio: Audio, threshold: float = SILENCE_THRESHOLD) -> float:
    """Seconds of the longest silence inside the sound (leading/trailing excluded)."""
    return max((end - start for start, end in silent_runs(audio, threshold)), default=0.0)


def tone(
    freq: float, seconds: float, level: float = 0.5, rate: int = CANONICAL_RATE
) -> Audio:
    """A sine beep with raised-cosine edges (no click at either end)."""
    return Audio(array("h", _tone_samples(freq, seconds, level, rate)), rate)


@functools.lru_cache(maxsize=64)
def _tone_samples(freq: float, seconds: float, level: float, rate: int) -> bytes:
    # Remembered: the "tone" backend beeps the same few notes in every sentence.
    n = max(1, round(seconds * rate))
    w = 2 * math.pi * freq / rate
    amp = level * FULL_SCALE
    beep = Audio(array("h", (round(amp * math.sin(w * i)) for i in range(n))), rate)
    edge = min(0.01, seconds / 4)
    return fade(beep, edge, edge).samples.tobytes()


@functools.lru_cache(maxsize=4)
def _chime_samples(rate: int, level: float) -> bytes:
    # Two bell-like notes, E5 then C5 (the classic "ding-dong"), each a few
    # harmonics under a soft attack and an exponential decay; the second
    # starts while the first still rings.
    notes = ((0.0, 659.25), (0.45, 523.25))
    partials = ((1.0, 1.0), (2.0, 0.3), (3.0, 0.08))
    note_s, attack_s, decay_s = 1.0, 0.01, 0.3
    total = round((notes[-1][0] + note_s) * rate)
    mix = [0.0] * total
    for start_s, freq in notes:
        start = round(start_s * rate)
        attack = round(attack_s * rate)
        for i in range(round(note_s * rate)):
            t = i / rate
            env = math.exp(-t / decay_s)
            if i < attack:
                env *= 0.5 - 0.5 * math.cos(math.pi * i / attack)
            v = sum(a * math.sin(2 * math.pi * freq * k * t) for k, a in partials)
            mix[start + i] += env * v
    top = max(abs(v) for v in mix)
    scale = level * FULL_SCALE / top
    out = Audio(array("h", (round(v * scale) for v in mix)), rate)
    return fade(out, 0.0, 0.05).samples.tobytes()


def chime(rate: int = CANONICAL_RATE, level: float = 0.5) -> Audio:
    """The synthesized two-tone call chime ("ding-dong"), about 1.45 s."""
    return Audio(array("h", _chime_samples(rate, level)), rate)
