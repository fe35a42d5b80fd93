"""Try the call-out speech from the command line.

    python -m speech text  A012 "Loket 3" [--lang en] [--digits] [--kosong]
    python -m speech clips A012 "Loket 3"          which words have recorded clips
    python -m speech make  A012 "Loket 3" -o call.wav [--backend espeak]
    python -m speech play  A012 "Loket 3" [--device D] [--repeats 2]
    python -m speech chime -o chime.wav
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from speech import audio
from speech.cache import AnnouncementAudio
from speech.clips import ClipLibrary
from speech.output import AnnouncementPlayer, create_output
from speech.sentence import VoiceSettings, build_announcement
from speech.synth import create_synthesizer

SOUNDS_DIR = Path(__file__).resolve().parent.parent / "sounds"


def _settings(args: argparse.Namespace) -> VoiceSettings:
    return VoiceSettings(
        lang=args.lang,
        number_style="digits" if args.digits else "whole",
        zero_word="kosong" if args.kosong else "nol",
        repeats=args.repeats,
        chime=not args.no_chime,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["text", "clips", "make", "play", "chime"])
    parser.add_argument("ticket", nargs="?", default="A012")
    parser.add_argument("counter", nargs="?", default="Loket 3")
    parser.add_argument("--lang", choices=["id", "en"], default="id")
    parser.add_argument("--digits", action="store_true", help="read the number digit by digit")
    parser.add_argument("--kosong", action="store_true", help='say 0 as "kosong"')
    parser.add_argument("--no-chime", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--backend", default="pyttsx3", help="pyttsx3, espeak or tone")
    parser.add_argument("--rate", type=int, default=None, help="words per minute")
    parser.add_argument("--sounds", type=Path, default=SOUNDS_DIR)
    parser.add_argument("--device", default=None, help="ALSA device for aplay")
    parser.add_argument("-o", "--out", type=Path, default=None)
    args = parser.parse_args(argv)

    if args.command == "chime":
        out = args.out or Path("chime.wav")
        audio.write_wav(out, audio.chime())
        print(out)
        return 0
    settings = _settings(args)
    announcement = build_announcement(args.ticket, args.counter, settings)
    if args.command == "text":
        print(announcement.text)
        print(" / ".join(announcement.words))
        return 0
    if args.command == "clips":
        plan = ClipLibrary(args.sounds, settings.lang).plan(announcement)
        for seg in plan:
            where = seg.clip.name if seg.clip else "(synthesized)"
            print(f"{' '.join(seg.keys):30} {where}")
        return 0
    options = {"rate": args.rate} if args.rate else {}
    synthesizer = create_synthesizer(args.backend, **options)
    with tempfile.TemporaryDirectory(prefix="antre-speech-") as tmp:
        cache = AnnouncementAudio(Path(tmp), args.sounds, synthesizer, settings)
        started = time.perf_counter()
        path = cache.prepare(announcement)
        took = time.perf_counter() - started
        print(f"{announcement.text}  [{synthesizer.name}, {audio.duration_of(path):.2f} s, made in {took:.3f} s]")
        if args.command == "make":
            out = args.out or Path("call.wav")
            shutil.copyfile(path, out)
            print(out)
            return 0
        player = AnnouncementPlayer(create_output("aplay", device=args.device), repeats=settings.repeats)
        player.enqueue(path, label=args.ticket)
        player.wait_idle(60 * settings.repeats)
        errors = [r.error for r in player.history if r.error]
        for error in errors:
            print(error, file=sys.stderr)
        return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
