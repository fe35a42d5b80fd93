"""The sentences calls actually get, the voice settings behind them, and audio prepared ahead.

Plain Python over a real SQLite demo MPP; the ``tone`` backend where only the
bookkeeping matters (real synthesis is measured in test_display_audio.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from antre import announce
from antre.announce import Announcer, config_from_values, load_voice_config
from antre.queue import Queue
from antre.store import Store
from speech import audio as wav
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]


def set_settings(store: Store, **values: Any) -> None:
    with store.write() as db:
        for key, value in values.items():
            store.set_setting(db, key, value)


def make_announcer(store: Store, queue: Queue, tmp_path: Path, **settings: Any) -> Announcer:
    set_settings(store, speech_backend="tone", **settings)
    return Announcer(store, tmp_path / "data", ROOT / "sounds", "http://antre.test", today=queue.today,
                     background=False)


def counter_named(queue: Queue, name: str) -> dict[str, Any]:
    return next(c for c in queue.counters() if c["name"] == name)


def call(queue: Queue, counter_name: str, service_code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Issue a ticket of ``service_code`` and call it at ``counter_name``; return (ticket, ctx) as push does."""
    service = next(s for s in queue.services() if s["code"] == service_code)
    counter = counter_named(queue, counter_name)
    queue.issue(service["id"])
    outcome = queue.call_next(counter["id"])
    ticket = outcome.ticket
    return ticket, queue.lookup(ticket["counter_id"], ticket["service_id"])


# The words are written out by hand: what a visitor hears, checked against the
# reading rules (letter names, whole numbers or digits, "nol"/"kosong").
SENTENCES = [
    # (voice setting, counter, service, calls before, expected text)
    ({}, "Loket 3", "B", 0, "Nomor antrian be, satu, silakan menuju loket tiga"),
    ({}, "Loket 3", "B", 11, "Nomor antrian be, dua belas, silakan menuju loket tiga"),
    ({}, "Loket 1", "KIA", 0, "Nomor antrian ka i a, satu, silakan menuju loket satu"),
    ({}, "Loket 4", "PD", 6, "Nomor antrian pe de, tujuh, silakan menuju loket empat"),
    ({}, "Loket 20", "AB", 0, "Nomor antrian a be, satu, silakan menuju loket dua puluh"),
    ({"number_style": "digits"}, "Loket 12", "L", 11, "Nomor antrian el, nol satu dua, silakan menuju loket dua belas"),
    ({"number_style": "digits", "zero_word": "kosong"}, "Loket 11", "M", 9,
     "Nomor antrian em, kosong satu kosong, silakan menuju loket sebelas"),
    ({"template_id": "Panggilan untuk nomor {number} di {counter}"}, "Loket 8", "G", 0,
     "Panggilan untuk nomor ge, satu di loket delapan"),
    ({"lang": "en"}, "Loket 3", "C", 11, "Queue number C, twelve, please proceed to loket three"),
    ({"lang": "en", "number_style": "digits"}, "Loket 15", "SIM", 44,
     "Queue number S, I, M, zero four five, please proceed to loket fifteen"),
]


@pytest.mark.parametrize(("voice", "counter", "code", "before", "expected"), SENTENCES)
def test_sentence_of_a_call(demo_store: Store, queue: Queue, tmp_path: Path, voice: dict[str, Any], counter: str,
                            code: str, before: int, expected: str) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path, voice=voice)
    service = next(s for s in queue.services() if s["code"] == code)
    for _ in range(before):  # earlier tickets of the day, served elsewhere
        queue.issue(service["id"])
    c = counter_named(queue, counter)
    for _ in range(before):
        queue.call_next(c["id"])
    ticket, ctx = call(queue, counter, code)
    result = announcer.announce(ticket, ctx)
    assert result["text"] == expected
    assert set(result) == {"text", "audio_url"}
    key = announcer.audio().key_for(announcer.announcement(ticket["number"], counter))
    assert result["audio_url"] == f"http://antre.test/display/audio/{key}.wav?t={ticket['id']}"


def test_sentence_follows_a_settings_change(demo_store: Store, queue: Queue, tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    ticket, ctx = call(queue, "Loket 3", "B")
    assert announcer.announce(ticket, ctx)["text"].endswith("loket tiga")
    set_settings(demo_store, voice={"template_id": "Nomor {number}, ke {counter}"})
    announcer.reload()
    assert announcer.announce(ticket, ctx)["text"] == "Nomor be, satu, ke loket tiga"


BAD_SETTINGS = [
    ({"voice": {"number_style": "roman"}}, "number_style", "whole"),
    ({"voice": {"zero_word": "kosongan"}}, "zero_word", "nol"),
    ({"voice": {"template_id": "Nomor {number}"}}, "template_id", announce.VOICE_DEFAULTS["template_id"]),
    ({"voice": {"template_id": "Nomor {number} {counter} {name}"}}, "template_id",
     announce.VOICE_DEFAULTS["template_id"]),
    ({"voice": {"repeats": 0}}, "repeats", 1),
    ({"voice": {"repeats": True}}, "repeats", 1),
    ({"voice": {"repeats": 9}}, "repeats", 1),
    ({"voice": {"chime": "yes"}}, "chime", True),
    ({"voice": {"lang": "jv"}}, "lang", "id"),
    ({"voice": "loud"}, "lang", "id"),
]


@pytest.mark.parametrize(("values", "field", "default"), BAD_SETTINGS)
def test_a_bad_stored_voice_setting_falls_back_to_its_default(values: dict[str, Any], field: str,
                                                              default: Any) -> None:
    config = config_from_values(values)
    assert getattr(config.voice, field) == default


@pytest.mark.parametrize(("key", "value"), [("speech_backend", "festival"), ("audio_output", "both"),
                                            ("audio_device", "hw 0"), ("audio_device", 3)])
def test_a_bad_output_setting_falls_back(key: str, value: Any) -> None:
    config = config_from_values({key: value})
    assert (config.backend, config.audio_output, config.audio_device) == ("pyttsx3", "browser", "")
    with pytest.raises(ValueError, match=key):
        announce.check_output_setting(key, value)


def test_settings_are_read_from_the_settings_table(demo_store: Store) -> None:
    set_settings(demo_store, voice={"number_style": "digits", "repeats": 3, "chime": False},
                 audio_output="server", speech_backend="espeak", audio_device="plughw:1,0")
    config = load_voice_config(demo_store)
    assert (config.voice.number_style, config.repeats, config.voice.chime) == ("digits", 3, False)
    assert (config.audio_output, config.backend, config.audio_device) == ("server", "espeak", "plughw:1,0")
    assert config.public() == {"audio_output": "server", "repeats": 3, "lang": "id", "chime": False}


def test_an_unbuildable_sentence_still_gives_text_and_the_chime(demo_store: Store, queue: Queue,
                                                                tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    result = announcer.announce({"id": 5, "number": "not a number!"}, {"counter": {"id": 1, "name": "Loket 1"}})
    assert result == {"text": "Nomor antrian not a number!, silakan menuju Loket 1",
                      "audio_url": "http://antre.test/display/audio/chime.wav"}


def test_issue_prepares_the_sentence_for_each_open_counter_of_the_service(demo_store: Store, queue: Queue,
                                                                          tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    # Service A is served by Loket 1 and Loket 2; Loket 2 is on a break.
    queue.set_counter_status(counter_named(queue, "Loket 2")["id"], True, reason="istirahat")
    service_a = next(s for s in queue.services() if s["code"] == "A")
    announcer.on_outcome(queue.issue(service_a["id"]))
    assert announcer.plan_pending() == 1
    assert announcer.preparer.run_pending() == 1
    ready = announcer.audio().key_for(announcer.announcement("A001", "Loket 1"))
    on_break = announcer.audio().key_for(announcer.announcement("A001", "Loket 2"))
    assert announcer.audio().is_ready(ready)
    assert not announcer.audio().is_ready(on_break)
    # The call then finds its audio ready: nothing left to make.
    outcome = queue.call_next(counter_named(queue, "Loket 1")["id"])
    announcer.announce(outcome.ticket, queue.lookup(outcome.ticket["counter_id"], service_a["id"]))
    assert announcer.preparer.pending() == 0


def test_a_call_tops_up_the_next_waiting_tickets(demo_store: Store, queue: Queue, tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    service_c = next(s for s in queue.services() if s["code"] == "C")  # Loket 3 and Loket 4
    for _ in range(6):
        queue.issue(service_c["id"])  # issued while nothing listened (e.g. before a restart)
    announcer.on_outcome(queue.call_next(counter_named(queue, "Loket 3")["id"]))
    # The next PREPARE_AHEAD waiting (C002-C004) for both counters.
    assert announcer.plan_pending() == announce.PREPARE_AHEAD * 2
    announcer.preparer.run_pending()
    for number in ("C002", "C003", "C004"):
        for counter in ("Loket 3", "Loket 4"):
            assert announcer.audio().is_ready(announcer.audio().key_for(announcer.announcement(number, counter)))
    assert not announcer.audio().is_ready(announcer.audio().key_for(announcer.announcement("C005", "Loket 3")))


def test_preparation_is_most_urgent_first_deduplicated_and_bounded(demo_store: Store, queue: Queue,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    made: list[str] = []
    monkeypatch.setattr(announcer.preparer, "_prepare", lambda a: made.append(a.text))
    a = announcer.announcement
    announcer.preparer.add(a("A009", "Loket 1"), 9)
    announcer.preparer.add(a("A003", "Loket 1"), 3)
    announcer.preparer.add(a("A009", "Loket 1"), 9)  # the same sentence again
    announcer.preparer.add(a("A005", "Loket 1"), 5)
    announcer.preparer.add(a("A005", "Loket 1"), announce.URGENT)  # now called: jumps the queue
    assert announcer.preparer.pending() == 3
    announcer.preparer.run_pending()
    assert made == [a("A005", "Loket 1").text, a("A003", "Loket 1").text, a("A009", "Loket 1").text]

    monkeypatch.setattr(announce, "MAX_PENDING", 5)
    for n in range(10, 0, -1):
        announcer.preparer.add(a(f"B{n:03d}", "Loket 3"), n)
    assert announcer.preparer.pending() == 5
    assert announcer.preparer.dropped == 5
    made.clear()
    announcer.preparer.run_pending()
    assert made == [a(f"B{n:03d}", "Loket 3").text for n in range(1, 6)]  # the least urgent were dropped


def test_server_output_plays_every_call_in_order_and_the_repeats(demo_store: Store, queue: Queue,
                                                                 tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path, voice={"repeats": 2}, audio_output="server",
                               audio_device="null")
    texts = []
    for counter, code in (("Loket 1", "A"), ("Loket 3", "B"), ("Loket 7", "E")):
        ticket, ctx = call(queue, counter, code)
        texts.append(announcer.announce(ticket, ctx)["text"])
    player = announcer.player
    assert player is not None and player.wait_idle(30)
    played = [(r.label, r.repeat) for r in player.history]
    assert played == [(t, r) for t in texts for r in (1, 2)]
    assert all(r.error is None and r.path is not None and wav.duration_of(r.path) > 1.0 for r in player.history)
    assert player.output.max_active == 1  # never two at once


def test_browser_output_does_not_play_on_the_server(demo_store: Store, queue: Queue, tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    ticket, ctx = call(queue, "Loket 1", "A")
    announcer.announce(ticket, ctx)
    assert announcer.player is None


def test_the_chime_alone_is_a_short_sound(demo_store: Store, queue: Queue, tmp_path: Path) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    started = time.monotonic()
    path = announcer.chime_path()
    assert time.monotonic() - started < 5
    sound = wav.read_wav(path)
    assert 1.0 < sound.duration < 2.5
    assert wav.rms(sound) > 0.05
    assert announcer.chime_path() == path  # made once


def test_audio_command_sets_shows_and_says(demo_store: Store) -> None:
    from click.testing import CliRunner

    from display.cli import audio_command

    data_dir = str(demo_store.path.parent)
    runner = CliRunner()
    result = runner.invoke(audio_command, ["set", "--data-dir", data_dir, "--output", "server", "--device", "null",
                                           "--backend", "tone"])
    assert result.exit_code == 0, result.output
    config = load_voice_config(demo_store)
    assert (config.audio_output, config.audio_device, config.backend) == ("server", "null", "tone")
    shown = runner.invoke(audio_command, ["show", "--data-dir", data_dir]).output
    assert "audio_output    server" in shown and "speech_backend  tone" in shown
    said = runner.invoke(audio_command, ["say", "--data-dir", data_dir, "B007", "Loket 12"])
    assert said.exit_code == 0, said.output
    assert said.output.strip() == "Nomor antrian be, tujuh, silakan menuju loket dua belas"
    for bad in (["--device", "hw 0"], []):
        refused = runner.invoke(audio_command, ["set", "--data-dir", data_dir, *bad])
        assert refused.exit_code == 2
    assert load_voice_config(demo_store).audio_device == "null"  # a refused change changes nothing
    with demo_store.read() as db:
        audit = db.conn.execute("SELECT details FROM audit WHERE action = 'settings.audio'").fetchall()
    assert len(audit) == 1


def test_one_planner_takes_a_burst_after_the_requests_and_ends(demo_store: Store, queue: Queue, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    set_settings(demo_store, speech_backend="tone")
    announcer = Announcer(demo_store, tmp_path / "data", ROOT / "sounds", "http://antre.test", today=queue.today,
                          background=True)  # a thread here (no gevent): the planner and the preparer run by themselves
    planners: list[str] = []
    real_spawn = announce.spawn
    monkeypatch.setattr(announce, "spawn", lambda fn, *a, name="": (planners.append(name), real_spawn(fn, *a))[1])
    issued = []
    with announcer._lock:  # however slow the machine, the planner cannot finish before the burst ends
        for code in ("A", "B", "C", "E"):  # a burst: the planner is scheduled once, and waits for the requests
            service = next(s for s in queue.services() if s["code"] == code)
            outcome = queue.issue(service["id"])
            announcer.on_outcome(outcome)
            issued.append((outcome.ticket["number"], service["id"]))
    assert planners == ["antre-announce-plan"]
    keys = [announcer.audio().key_for(announcer.announcement(number, name))
            for number, service_id in issued for _id, name in announcer._open_counters(service_id)]
    assert len(keys) >= 4
    wait_for(lambda: all(announcer.audio().is_ready(k) for k in keys))
    wait_for(lambda: not announcer._planning)
    # A later event starts a planner again: nothing waits for a planner that has ended.
    service_g = next(s for s in queue.services() if s["code"] == "G")
    outcome = queue.issue(service_g["id"])
    announcer.on_outcome(outcome)
    assert planners == ["antre-announce-plan"] * 2
    key = announcer.audio().key_for(announcer.announcement(outcome.ticket["number"], "Loket 8"))
    wait_for(lambda: announcer.audio().is_ready(key))


def test_the_speech_worker_runs_below_the_server(tmp_path: Path) -> None:
    """The worker process lowers its own priority, then prepares audio over its line protocol."""
    import json
    import os
    import subprocess
    import sys

    import psutil

    from speech.sentence import VoiceSettings, build_announcement

    proc = subprocess.Popen([sys.executable, "-m", "antre.announce", "--worker", str(tmp_path / "audio"),
                             str(ROOT / "sounds")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=str(ROOT))
    try:
        def ask(message: dict[str, Any]) -> dict[str, Any]:
            proc.stdin.write(json.dumps(message).encode() + b"\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        assert ask({"id": 1, "op": "describe", "backend": "tone"})["ok"]
        worker = psutil.Process(proc.pid)
        assert worker.nice() == psutil.Process().nice() + announce.WORKER_NICE
        assert os.sched_getscheduler(proc.pid) == os.SCHED_BATCH
        spoken = build_announcement("A012", "Loket 3", VoiceSettings())
        answer = ask({"id": 2, "op": "prepare", "backend": "tone", "voice": vars(VoiceSettings()),
                      "announcement": {"text": spoken.text, "words": list(spoken.words), "lang": spoken.lang,
                                       "tokens": [vars(t) for t in spoken.tokens]}})
        assert answer["ok"] and answer["id"] == 2
        made = wav.read_wav(tmp_path / "audio" / f"{answer['key']}.wav")
        assert made.duration > 2.0 and wav.rms(made) > 0.05
    finally:
        proc.stdin.close()
        proc.wait(10)


def test_a_waiter_is_woken_when_a_sentence_is_done(demo_store: Store, queue: Queue, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    announcer = make_announcer(demo_store, queue, tmp_path)
    preparer = announcer.preparer
    finished = preparer.finished_event()
    assert preparer.finished_event() is finished  # one event for everyone waiting now
    preparer.add(announcer.announcement("A001", "Loket 1"), announce.URGENT)
    assert not finished.is_set()
    assert preparer.run_pending() == 1
    assert finished.is_set()
    later = preparer.finished_event()
    assert later is not finished and not later.is_set()
    # A sentence that fails wakes the waiters too (they then see it is not ready and wait on, or time out).
    monkeypatch.setattr(preparer, "_prepare", lambda a: 1 / 0)
    preparer.add(announcer.announcement("A002", "Loket 1"), announce.URGENT)
    preparer.run_pending()
    assert later.is_set()
