"""Call-out speech: sentences, their audio, and playing them.

* :mod:`speech.numbers` - Indonesian/English number words, digit reading, letter names.
* :mod:`speech.sentence` - :class:`VoiceSettings`, :func:`build_announcement`.
* :mod:`speech.audio` - WAV reading/writing and joining on the standard library.
* :mod:`speech.synth` - synthesizer backends (``pyttsx3``, ``espeak``, ``tone``).
* :mod:`speech.clips` - joining human-recorded clips from ``sounds/<lang>/``.
* :mod:`speech.cache` - :class:`AnnouncementAudio`: prepared audio cached by sentence.
* :mod:`speech.output` - :class:`AnnouncementPlayer` on the server's own sound output.

Typical use in the server::

    synth = create_synthesizer(config.speech_backend)          # falls back by itself
    calls = AnnouncementAudio(data_dir / "speech", SOUNDS_DIR, synth, settings)
    calls.prepare_async(calls.build("A013", "Loket 3"))        # ahead of the call
    player = AnnouncementPlayer(create_output("aplay"), repeats=settings.repeats)
    player.enqueue(lambda: calls.prepare(calls.build("A012", "Loket 3")), label="A012")
"""

from speech.cache import AnnouncementAudio
from speech.output import AnnouncementPlayer, AudioOutput, PlaybackError, create_output
from speech.sentence import Announcement, VoiceSettings, build_announcement, validate_template
from speech.synth import SynthesisError, Synthesizer, create_synthesizer

__all__ = [
    "Announcement",
    "AnnouncementAudio",
    "AnnouncementPlayer",
    "AudioOutput",
    "PlaybackError",
    "SynthesisError",
    "Synthesizer",
    "VoiceSettings",
    "build_announcement",
    "create_output",
    "create_synthesizer",
    "validate_template",
]
