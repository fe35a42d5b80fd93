"""``python server.py audio ...``: where calls are heard, and a test of the speakers.

    python server.py audio show --data-dir DIR
    python server.py audio set  --data-dir DIR --output server --device plughw:1,0
    python server.py audio say  --data-dir DIR [A012] ["Loket 3"]

``set`` changes the top-level settings ``audio_output``, ``audio_device`` and
``speech_backend`` (audited); a running server uses them within seconds.
``say`` makes a call with the building's voice settings and plays it on this
machine's sound output, to check the speakers.
"""

from __future__ import annotations

from pathlib import Path

import click

from antre.announce import AUDIO_OUTPUTS, SPEECH_BACKENDS, check_output_setting, load_voice_config
from antre.store import Store

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="Folder holding the database (antre.db).",
)


@click.group("audio")
def audio_command() -> None:
    """Call audio: on the displays (browser) or on this server's speakers."""


@audio_command.command("show")
@data_dir_option
def show(data_dir: Path) -> None:
    """Print the voice and output settings in force."""
    config = load_voice_config(Store(data_dir))
    voice = config.voice
    click.echo(f"audio_output    {config.audio_output}  "
               f"({'the server plays calls' if config.audio_output == 'server' else 'the displays play calls'})")
    click.echo(f"audio_device    {config.audio_device or '(default)'}")
    click.echo(f"speech_backend  {config.backend}")
    click.echo(f"voice           lang={voice.lang} number_style={voice.number_style} zero_word={voice.zero_word} "
               f"repeats={voice.repeats} chime={voice.chime}")
    click.echo(f"template_id     {voice.template_id}")
    click.echo(f"template_en     {voice.template_en}")


@audio_command.command("set")
@data_dir_option
@click.option("--output", type=click.Choice(AUDIO_OUTPUTS), default=None,
              help="browser: the displays play each call; server: this machine plays it (aplay).")
@click.option("--device", default=None, help="ALSA device for server output, e.g. plughw:1,0 ('' = default).")
@click.option("--backend", type=click.Choice(SPEECH_BACKENDS), default=None, help="Speech synthesizer.")
def set_command(data_dir: Path, output: str | None, device: str | None, backend: str | None) -> None:
    """Change where calls are played and how they are synthesized."""
    changes = {key: value for key, value in (("audio_output", output), ("audio_device", device),
                                             ("speech_backend", backend)) if value is not None}
    if not changes:
        raise click.UsageError("nothing to set: give --output, --device or --backend")
    try:
        for key, value in changes.items():
            check_output_setting(key, value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    store = Store(data_dir)
    with store.write() as db:
        old = {key: store.get_setting(db, key, None) for key in changes}
        for key, value in changes.items():
            store.set_setting(db, key, value)
        store.append_audit(db, actor="cli", action="settings.audio", details={"old": old, "new": changes})
    for key, value in changes.items():
        click.echo(f"{key} = {value!r}")
    click.echo("A running server uses the new settings within a few seconds; displays within a minute.")


@audio_command.command("say")
@data_dir_option
@click.argument("ticket", default="A012")
@click.argument("counter", default="Loket 3")
@click.option("--device", default=None, help="ALSA device (default: the audio_device setting).")
def say(data_dir: Path, ticket: str, counter: str, device: str | None) -> None:
    """Play one call on this machine's speakers, as the server would."""
    import tempfile

    from speech.cache import AnnouncementAudio
    from speech.output import AnnouncementPlayer, PlaybackError, create_output
    from speech.sentence import build_announcement
    from speech.synth import create_synthesizer

    config = load_voice_config(Store(data_dir))
    try:
        announcement = build_announcement(ticket, counter, config.voice)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    sounds = Path(__file__).resolve().parent.parent / "sounds"
    chosen = config.audio_device if device is None else device
    try:
        output = create_output("null") if chosen == "null" else create_output("aplay", device=chosen or None)
    except PlaybackError as exc:
        raise click.ClickException(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="antre-say-") as tmp:
        cache = AnnouncementAudio(Path(tmp), sounds, create_synthesizer(config.backend), config.voice)
        player = AnnouncementPlayer(output, repeats=config.repeats)
        click.echo(announcement.text)
        player.enqueue(lambda: cache.prepare(announcement), label=announcement.text)
        player.wait_idle(120)
        failed = [r.error for r in player.history if r.error]
    if failed:
        raise click.ClickException(f"could not play: {failed[0]}")
