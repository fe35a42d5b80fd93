"""The phone's call chime: a short, bright three-note WAV made with the standard library.

Made once per process (about 45 KB) and served from memory: no file to ship,
nothing to download, and it is distinct from the waiting-room hall chime so a
visitor learns that *their* phone is ringing.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import wave

RATE = 16000
#: (start s, frequency Hz, length s): E6, G#6, B6 -- a rising major arpeggio
NOTES = ((0.0, 1318.5, 0.55), (0.16, 1661.2, 0.55), (0.32, 1975.5, 0.9))
LENGTH_S = 1.3
LEVEL = 0.55


@functools.cache
def chime_wav() -> bytes:
    """Mono 16-bit PCM WAV bytes of the chime."""
    total = int(RATE * LENGTH_S)
    samples = [0.0] * total
    for start, freq, length in NOTES:
        first = int(start * RATE)
        count = min(total - first, int(length * RATE))
        for i in range(count):
            t = i / RATE
            attack = min(1.0, t / 0.005)  # 5 ms attack: no click
            decay = math.exp(-t * 5.0)
            tone = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
            samples[first + i] += tone * attack * decay
    fade = int(0.03 * RATE)
    for i in range(fade):  # end on silence
        samples[total - 1 - i] *= i / fade
    peak = max(abs(s) for s in samples) or 1.0
    frames = struct.pack(f"<{total}h", *(int(s / peak * LEVEL * 32767) for s in samples))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    return buffer.getvalue()
