"""Joining recorded clips (made here with espeak-ng), with synthesis for missing words."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from speech import audio, clips
from speech.cache import AnnouncementAudio
from speech.clips import ClipLibrary
from speech.sentence import VoiceSettings, build_announcement
from speech.synth import EspeakSynthesizer, Synthesizer

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

# Limits the joined audio must keep: the longest pause is a comma pause plus
# the two trim margins, and a join is as quiet as the fades make it.
MAX_GAP_S = clips.PAUSE_GAP_S + 2 * 0.02 + 0.02
MAX_CLICK = 300

CLIP_TEXTS = {
    "nomor_antrian": "nomor antrian",
    "silakan_menuju": "silakan menuju",
    "loket": "loket",
    "huruf_a": "a",
    "huruf_b": "be",
    "satu": "satu",
    "dua": "dua",
    "tiga": "tiga",
    "lima": "lima",
    "belas": "belas",
    "puluh": "puluh",
    "ratus": "ratus",
    "se": "se",
}
# Like a phone or a USB recorder: 44.1 kHz stereo.
RECORDER_STYLE = {"nomor_antrian", "loket", "dua"}


class Counting(Synthesizer):
    """espeak-ng, counting what it is asked to say."""

    name = "counting"

    def __init__(self) -> None:
        self.inner = EspeakSynthesizer()
        self.texts: list[str] = []

    def fingerprint(self, lang: str) -> str:
        return "counting|" + self.inner.fingerprint(lang)

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        self.texts.append(text)
        return self.inner.synthesize(text, lang, out_path)


class Refusing(Synthesizer):
    name = "refusing"

    def fingerprint(self, lang: str) -> str:
        return "refusing"

    def synthesize(self, text: str, lang: str, out_path: Path) -> Path:
        raise AssertionError(f"synthesis asked for {text!r} although every clip exists")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sounds directory with clips for the standard sentence and a few numbers."""
    root = tmp_path_factory.mktemp("sounds")
    (root / "id").mkdir()
    espeak = EspeakSynthesizer()
    for key, text in CLIP_TEXTS.items():
        out = root / "id" / f"{key}.wav"
        espeak.synthesize(text, "id", out)
        if key in RECORDER_STYLE and shutil.which("sox"):
            wide = out.with_suffix(".44k.wav")
            subprocess.run(["sox", str(out), "-r", "44100", "-c", "2", str(wide)], check=True, timeout=20)
            wide.replace(out)
    return root


def _copy(recorded: Path, tmp_path: Path, drop: tuple[str, ...] = ()) -> Path:
    target = tmp_path / "sounds"
    shutil.copytree(recorded, target)
    for key in drop:
        (target / "id" / f"{key}.wav").unlink()
    return target


def test_plan_covers_the_sentence_with_clips(recorded: Path) -> None:
    a = build_announcement("A012", "Loket 3", VoiceSettings())
    plan = ClipLibrary(recorded, "id").plan(a)
    assert all(seg.clip is not None for seg in plan)
    assert [seg.clip.stem for seg in plan if seg.clip] == [
        "nomor_antrian", "huruf_a", "dua", "belas", "silakan_menuju", "loket", "tiga",
    ]  # fmt: skip
    assert [k for seg in plan for k in seg.keys] == [t.key for t in a.tokens]
    assert [seg.pause_after for seg in plan] == [False, True, False, True, False, False, False]


def test_se_words_are_joined_from_se(recorded: Path) -> None:
    a = build_announcement("B111", "Loket 1", VoiceSettings())  # "seratus sebelas"
    plan = ClipLibrary(recorded, "id").plan(a)
    stems = [seg.clip.stem if seg.clip else f"<{seg.text}>" for seg in plan]
    assert stems == [
        "nomor_antrian", "huruf_b", "se", "ratus", "se", "belas", "silakan_menuju", "loket", "satu",
    ]  # fmt: skip
    assert [seg.tight for seg in plan][2:6] == [True, False, True, False]


def test_joined_clips_have_no_long_gap_and_no_click(recorded: Path, tmp_path: Path) -> None:
    a = build_announcement("A012", "Loket 3", VoiceSettings())
    library = ClipLibrary(recorded, "id")
    plan = library.plan(a)
    joined, joins = clips.assemble(plan, library, {}, None)
    assert joined.rate == 22050
    assert 1.5 < joined.duration < 6.0
    assert audio.rms(joined) > 0.05
    assert audio.longest_silence(joined) <= MAX_GAP_S
    assert audio.max_click_at(joined, joins) <= MAX_CLICK
    # The same clips put end to end as recorded break both limits: the
    # measurement can fail.
    raw = [audio.read_wav(seg.clip) for seg in plan if seg.clip]
    naive, naive_joins = audio.concatenate(raw, 0)
    assert audio.longest_silence(naive) > MAX_GAP_S
    cut = [audio.Audio(r.samples[len(r) // 3 : 2 * len(r) // 3], r.rate) for r in raw]
    cut_joined, cut_joins = audio.concatenate(cut, 0)
    assert audio.max_click_at(cut_joined, cut_joins) > 3 * MAX_CLICK


def test_prepared_file_from_clips_only(recorded: Path, tmp_path: Path) -> None:
    cache = AnnouncementAudio(tmp_path / "cache", recorded, Refusing(), VoiceSettings())
    path = cache.prepare(cache.build("A012", "Loket 3"))
    sound = audio.read_wav(path)
    info = audio.read_wav_info(path)
    assert (info.rate, info.channels) == (22050, 1)
    # Chime (about 1.45 s), a pause, then the clips.
    assert 3.0 < sound.duration < 8.0
    speech_part = audio.Audio(sound.samples[int(1.9 * 22050) :], 22050)
    assert audio.longest_silence(speech_part) <= MAX_GAP_S
    assert audio.rms(speech_part) > 0.05


def test_missing_clip_is_synthesized_once(recorded: Path, tmp_path: Path) -> None:
    sounds = _copy(recorded, tmp_path, drop=("belas",))
    synth = Counting()
    cache = AnnouncementAudio(tmp_path / "cache", sounds, synth, VoiceSettings(chime=False))
    a = cache.build("A012", "Loket 3")
    plan = cache.library("id").plan(a)
    assert [seg.text for seg in plan if seg.clip is None] == ["belas"]
    first = audio.read_wav(cache.prepare(a))
    assert synth.texts == ["belas"]
    # "lima belas": a different sentence, the same missing word, no new synthesis.
    cache.prepare(cache.build("B015", "Loket 1"))
    assert synth.texts == ["belas"]
    assert audio.longest_silence(first) <= MAX_GAP_S
    assert 1.5 < first.duration < 6.0
    # Runs of missing words are synthesized together, split at commas.
    sounds2 = _copy(recorded, tmp_path / "b", drop=("dua", "belas", "silakan_menuju"))
    plan = ClipLibrary(sounds2, "id").plan(a)
    assert [seg.text for seg in plan if seg.clip is None] == ["dua belas", "silakan menuju"]


def test_no_clips_means_one_synthesis_of_the_exact_text(tmp_path: Path) -> None:
    synth = Counting()
    cache = AnnouncementAudio(tmp_path / "cache", tmp_path / "empty-sounds", synth, VoiceSettings())
    a = cache.build("A012", "Loket 3")
    cache.prepare(a)
    assert synth.texts == [a.text]


def test_recorded_chime_replaces_the_synthesized_one(recorded: Path, tmp_path: Path) -> None:
    sounds = _copy(recorded, tmp_path)
    audio.write_wav(sounds / "chime.wav", audio.tone(1200, 0.5, level=0.6))
    library = ClipLibrary(sounds, "id")
    assert library.chime_path() == sounds / "chime.wav"
    cache = AnnouncementAudio(tmp_path / "cache", sounds, Refusing(), VoiceSettings())
    sound = audio.read_wav(cache.prepare(cache.build("A012", "Loket 3")))
    head = sound.samples[int(0.1 * 22050) : int(0.4 * 22050)]
    crossings = sum(1 for x, y in zip(head, head[1:], strict=False) if (x < 0) != (y < 0))
    assert crossings == pytest.approx(2 * 1200 * 0.3, rel=0.05)


def test_fingerprint_follows_the_clips(recorded: Path, tmp_path: Path) -> None:
    sounds = _copy(recorded, tmp_path)
    library = ClipLibrary(sounds, "id")
    before = library.fingerprint()
    assert library.fingerprint() == before
    audio.write_wav(sounds / "id" / "empat.wav", audio.tone(300, 0.3))
    added = library.fingerprint()
    assert added != before
    audio.write_wav(sounds / "id" / "empat.wav", audio.tone(300, 0.4))  # re-recorded
    assert library.fingerprint() != added
    assert "empat" in library.clips()


def test_unusable_clips_fall_back_to_synthesis(recorded: Path, tmp_path: Path) -> None:
    sounds = _copy(recorded, tmp_path)
    (sounds / "id" / "loket.wav").write_bytes(b"this is not a wav file, it is a text file" * 10)
    synth = Counting()
    cache = AnnouncementAudio(tmp_path / "cache", sounds, synth, VoiceSettings(chime=False))
    a = cache.build("A012", "Loket 3")
    assert "loket" not in cache.library("id").clips()
    cache.prepare(a)
    assert synth.texts == ["loket"]  # only the word of the unreadable clip
    # A clip that reads but is silent: the whole sentence is synthesized instead.
    audio.write_wav(sounds / "id" / "tiga.wav", audio.silence(0.5))
    audio.write_wav(sounds / "chime.wav", audio.silence(0.5))  # and a silent chime
    cache2 = AnnouncementAudio(tmp_path / "cache2", sounds, synth, VoiceSettings())
    path = cache2.prepare(a)
    assert synth.texts[-1] == a.text
    sound = audio.read_wav(path)
    assert sound.duration > 1.45 + 2.0  # the built-in chime, then the sentence
    assert audio.rms(sound) > 0.05


def test_a_clip_is_prepared_once_per_version_also_across_processes(recorded: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sounds = _copy(recorded, tmp_path)
    store = tmp_path / "prepared"
    store.mkdir()
    clip = sounds / "id" / "dua.wav"  # 44.1 kHz stereo: resampled when prepared
    assert audio.read_wav_info(clip).rate == 44100
    first = ClipLibrary(sounds, "id", store).load(clip)
    assert first.rate == 22050 and audio.peak(first) == pytest.approx(clips.SPEECH_LEVEL, abs=0.01)
    assert len(list(store.glob("clip-*.wav"))) == 1
    # A new library, as in a restarted worker: read back, not prepared again, the very same samples.
    prepared: list[Path] = []
    real = clips.prepare_piece
    monkeypatch.setattr(clips, "prepare_piece", lambda sound, level=clips.SPEECH_LEVEL: (prepared.append(sound),
                                                                                         real(sound, level))[1])
    again = ClipLibrary(sounds, "id", store).load(clip)
    assert prepared == [] and again.samples == first.samples
    # A lost or broken stored file is made again; a re-recorded clip is a new version.
    for kept in store.glob("clip-*.wav"):
        kept.write_bytes(b"RIFF")
    assert ClipLibrary(sounds, "id", store).load(clip).samples == first.samples and len(prepared) == 1
    audio.write_wav(clip, audio.tone(500, 0.3))
    rerecorded = ClipLibrary(sounds, "id", store).load(clip)
    assert len(prepared) == 2 and rerecorded.duration < 0.4
    assert len(list(store.glob("clip-*.wav"))) == 2
