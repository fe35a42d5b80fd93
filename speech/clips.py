"""Human-recorded clips: planning which clips speak a sentence, and joining them.

A building may drop recordings into ``sounds/<lang>/``, one WAV per word or
phrase, named by the word's clip key (see ``sounds/README.md``):
``nomor_antrian.wav``, ``silakan_menuju.wav``, ``loket.wav``, ``huruf_a.wav``,
``satu.wav``, ``belas.wav``, ``sebelas.wav``, ``chime.wav`` and so on.

:meth:`ClipLibrary.plan` covers the sentence's words left to right with the
longest phrase clip that matches (up to four words, never across a comma).
A word with no clip is grouped with its missing neighbours into one
*synthesized* segment, so only the missing part is synthesized.  A ``se-``
word ("sebelas") with no clip of its own is joined from ``se.wav`` and
``belas.wav`` when both exist.  With no clip matching at all the whole
sentence is one synthesized segment, spoken in one go (the most natural
prosody a synthesizer can give).

:func:`assemble` brings every piece to 22050 Hz mono, trims its silences,
levels its peak, fades its edges (no click at a join) and joins the pieces
with a fixed short gap, a longer one at commas, after the chime.  A clip is
prepared so once per version of its file: kept in memory, and with a
``store_dir`` also on disk, so a restarted worker does not resample a 48 kHz
recording again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from antre.blocking import native_lock
from speech import audio
from speech.sentence import Announcement, Token

log = logging.getLogger(__name__)

WORD_GAP_S = 0.06
PAUSE_GAP_S = 0.25
CHIME_GAP_S = 0.35
MAX_PHRASE_WORDS = 4
SPEECH_LEVEL = 0.7  # peak of every speech piece, of full scale
CHIME_LEVEL = 0.5
CHIME_FILE = "chime.wav"
SE_WORDS = {"sepuluh": "puluh", "sebelas": "belas", "seratus": "ratus", "seribu": "ribu"}
#: changes whenever :func:`prepare_piece` would make different samples from the same clip
PIECE_VERSION = 1


@dataclass(frozen=True)
class Segment:
    """A stretch of the sentence: a recorded clip, or text to synthesize (``clip`` None)."""

    keys: tuple[str, ...]
    text: str
    clip: Path | None = None
    pause_after: bool = False
    tight: bool = False  # joined to the next piece without a gap ("se" + "belas")


class ClipLibrary:
    """The clips of one language in ``sounds_dir/<lang>/``.

    ``store_dir``: where prepared clips are kept (canonical WAVs named by the
    clip's path, size, time and level), so that a clip is resampled and
    levelled once per version, not once per process.
    """

    def __init__(self, sounds_dir: Path, lang: str, store_dir: Path | None = None) -> None:
        self.sounds_dir = Path(sounds_dir)
        self.lang = lang
        self.store_dir = None if store_dir is None else Path(store_dir)
        self.dir = self.sounds_dir / lang
        self._memo: dict[tuple[str, int, int, float], audio.Audio] = {}
        self._readable_memo: dict[tuple[str, int, int], bool] = {}
        # Used from gevent's native thread pool too (assemble runs there).
        self._memo_lock = native_lock()

    def _scan(self) -> dict[str, tuple[Path, int, int]]:
        found: dict[str, tuple[Path, int, int]] = {}
        try:
            entries = sorted(self.dir.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return found
        for entry in entries:
            if entry.suffix.lower() != ".wav" or entry.name.startswith("."):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            if st.st_size > 44 and self._readable(entry, st.st_size, st.st_mtime_ns):
                found[entry.stem.lower()] = (entry, st.st_size, st.st_mtime_ns)
        return found

    def _readable(self, path: Path, size: int, mtime: int) -> bool:
        """Whether a clip's header parses and it has samples (remembered per version)."""
        memo_key = (str(path), size, mtime)
        with self._memo_lock:
            known = self._readable_memo.get(memo_key)
        if known is None:
            try:
                known = audio.read_wav_info(path).frames > 0
            except (OSError, ValueError) as exc:
                log.warning("ignoring clip %s: %s", path, exc)
                known = False
            else:
                if not known:
                    log.warning("ignoring clip %s: it holds no samples", path)
            with self._memo_lock:
                self._readable_memo[memo_key] = known
        return known

    def clips(self) -> dict[str, Path]:
        """Clip key to file, for every WAV in the language's folder (chime included)."""
        return {key: entry[0] for key, entry in self._scan().items()}

    def fingerprint(self) -> str:
        """Changes whenever a clip is added, removed or re-recorded."""
        h = hashlib.sha256()
        for key, (_path, size, mtime) in sorted(self._scan().items()):
            h.update(f"{key}:{size}:{mtime};".encode())
        chime = self.chime_path()
        if chime is not None and chime.parent != self.dir:
            st = chime.stat()
            h.update(f"shared-chime:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()[:16]

    def chime_path(self) -> Path | None:
        """A recorded chime: ``sounds/<lang>/chime.wav``, else ``sounds/chime.wav``."""
        for candidate in (self.dir / CHIME_FILE, self.sounds_dir / CHIME_FILE):
            if candidate.is_file() and candidate.stat().st_size > 44:
                return candidate
        return None

    def plan(self, announcement: Announcement) -> list[Segment]:
        """Segments that speak ``announcement``: clips where they exist, synthesis elsewhere."""
        clips = self.clips()
        clips.pop(CHIME_FILE[:-4], None)
        tokens = announcement.tokens
        segments: list[Segment] = []
        missing: list[Token] = []

        def flush_missing() -> None:
            if missing:
                segments.append(_synth_segment(missing))
                missing.clear()

        i = 0
        while i < len(tokens):
            found = self._match(tokens, i, clips)
            if found is None:
                missing.append(tokens[i])
                if tokens[i].pause_after:
                    flush_missing()
                i += 1
                continue
            flush_missing()
            found_segments, consumed = found
            segments.extend(found_segments)
            i += consumed
        flush_missing()
        if all(seg.clip is None for seg in segments):
            # Nothing recorded for these words: one synthesis of the exact text.
            return [Segment(tuple(t.key for t in tokens), announcement.text)]
        return segments

    @staticmethod
    def _match(
        tokens: tuple[Token, ...], i: int, clips: dict[str, Path]
    ) -> tuple[list[Segment], int] | None:
        """Clip segments for the longest phrase starting at token ``i``, and its length."""
        for length in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            span = tokens[i : i + length]
            if any(t.pause_after for t in span[:-1]):
                continue  # a phrase clip never spans a comma
            key = "_".join(t.key for t in span)
            if key in clips:
                text = " ".join(t.text for t in span)
                seg = Segment(tuple(t.key for t in span), text, clips[key], span[-1].pause_after)
                return [seg], length
        token = tokens[i]
        rest = SE_WORDS.get(token.key)
        if rest and "se" in clips and rest in clips:
            return [
                Segment((token.key,), "se", clips["se"], tight=True),
                Segment((token.key,), rest, clips[rest], token.pause_after),
            ], 1
        return None

    def load(self, path: Path, level: float = SPEECH_LEVEL) -> audio.Audio:
        """A clip as a joinable piece: canonical, trimmed, levelled, faded (memoized)."""
        st = Path(path).stat()
        memo_key = (str(path), st.st_size, st.st_mtime_ns, level)
        with self._memo_lock:
            hit = self._memo.get(memo_key)
        if hit is not None:
            return hit.copy()
        piece = self._stored_piece(path, st.st_size, st.st_mtime_ns, level)
        with self._memo_lock:
            if len(self._memo) > 512:
                self._memo.clear()
            self._memo[memo_key] = piece
        return piece.copy()

    def _stored_piece(self, path: Path, size: int, mtime_ns: int, level: float) -> audio.Audio:
        """The prepared clip from ``store_dir`` if it was prepared before, else prepared (and stored) now."""
        if self.store_dir is None:
            return prepare_piece(audio.read_wav(path), level)
        name = hashlib.sha256(f"{PIECE_VERSION}|{Path(path).resolve()}|{size}|{mtime_ns}|{level!r}".encode())
        stored = self.store_dir / f"clip-{name.hexdigest()[:40]}.wav"
        try:
            kept = audio.read_wav(stored, canonical=False)
        except (OSError, audio.WavError):
            pass  # not prepared yet (or unreadable: made again below)
        else:
            if kept.samples and kept.rate == audio.CANONICAL_RATE:
                return kept
        piece = prepare_piece(audio.read_wav(path), level)
        try:
            audio.publish_wav(stored, piece)
        except OSError as exc:
            log.warning("cannot keep the prepared clip %s: %s", path, exc)
        return piece


def _synth_segment(tokens: list[Token]) -> Segment:
    last = len(tokens) - 1
    words = [t.text + ("," if t.pause_after and n < last else "") for n, t in enumerate(tokens)]
    return Segment(tuple(t.key for t in tokens), " ".join(words), None, tokens[-1].pause_after)


def prepare_piece(sound: audio.Audio, level: float = SPEECH_LEVEL) -> audio.Audio:
    """Canonical rate, silences trimmed, peak levelled, edges faded.

    One pass finds the loudest samples: trimming keeps the loudest window, so
    the same figures bound the trimmed sound and level it.
    """
    sound = audio.to_canonical(sound)
    bounds = audio.extremes(sound)
    sound = audio.trim_silence(sound, bounds=bounds)
    if not sound.samples:
        raise audio.WavError("the clip is silent")
    return audio.fade(audio.normalize_peak(sound, level, bounds=bounds))


def assemble(
    segments: list[Segment],
    library: ClipLibrary,
    synthesized: dict[int, Path],
    chime: audio.Audio | None,
) -> tuple[audio.Audio, list[int]]:
    """Join the segments (clips, or ``synthesized[i]`` for segment ``i``) after the chime.

    Returns the audio and the sample positions of its joins.
    """
    pieces: list[audio.Audio] = []
    gaps: list[float] = []
    if chime is not None:
        pieces.append(chime)
        gaps.append(CHIME_GAP_S)
    for i, seg in enumerate(segments):
        if seg.clip is not None:
            pieces.append(library.load(seg.clip))
        else:
            pieces.append(prepare_piece(audio.read_wav(synthesized[i])))
        if i < len(segments) - 1:
            gaps.append(0.0 if seg.tight else PAUSE_GAP_S if seg.pause_after else WORD_GAP_S)
    return audio.concatenate(pieces, gaps)


def load_chime(library: ClipLibrary) -> audio.Audio:
    """The building's recorded chime if it has one, else the synthesized "ding-dong"."""
    path = library.chime_path()
    if path is not None:
        try:
            return library.load(path, CHIME_LEVEL)
        except (OSError, ValueError) as exc:
            log.warning("recorded chime %s unusable (%s); using the built-in chime", path, exc)
    return audio.chime(level=CHIME_LEVEL)
