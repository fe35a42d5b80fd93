"""Call-out sentences: text, words, clip keys and template validation."""

from __future__ import annotations

import shutil
import string
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speech.sentence import (
    Announcement,
    VoiceSettings,
    build_announcement,
    parse_ticket_number,
    validate_template,
)

ID = VoiceSettings()
ID_DIGITS = VoiceSettings(number_style="digits")
ID_KOSONG = VoiceSettings(number_style="digits", zero_word="kosong")
EN = VoiceSettings(lang="en")


@pytest.mark.parametrize(
    ("ticket", "counter", "settings", "text"),
    [
        ("A012", "Loket 3", ID, "Nomor antrian a, dua belas, silakan menuju loket tiga"),
        ("A001", "Loket 1", ID, "Nomor antrian a, satu, silakan menuju loket satu"),
        ("B100", "Loket 10", ID, "Nomor antrian be, seratus, silakan menuju loket sepuluh"),
        ("C111", "Loket 11", ID, "Nomor antrian ce, seratus sebelas, silakan menuju loket sebelas"),
        ("F999", "Loket 20", ID,
         "Nomor antrian ef, sembilan ratus sembilan puluh sembilan, silakan menuju loket dua puluh"),
        ("Q1234", "Loket 2", ID,
         "Nomor antrian ki, seribu dua ratus tiga puluh empat, silakan menuju loket dua"),
        ("AB105", "Loket 12A", ID,
         "Nomor antrian a be, seratus lima, silakan menuju loket dua belas a"),
        ("XYZ000", "Loket 7", ID, "Nomor antrian eks ye zet, nol, silakan menuju loket tujuh"),
        ("007", "Loket BPJS 2", ID, "Nomor antrian tujuh, silakan menuju loket be pe je es dua"),
        ("A-12", "Loket 3", ID, "Nomor antrian a, dua belas, silakan menuju loket tiga"),
        ("a012", "loket 3", ID, "Nomor antrian a, dua belas, silakan menuju loket tiga"),
        ("A012", "Loket 3", ID_DIGITS, "Nomor antrian a, nol satu dua, silakan menuju loket tiga"),
        ("A012", "Loket 3", ID_KOSONG,
         "Nomor antrian a, kosong satu dua, silakan menuju loket tiga"),
        ("B105", "Loket 12", ID_KOSONG,
         "Nomor antrian be, satu kosong lima, silakan menuju loket dua belas"),
        ("A012", "Counter 3", EN, "Queue number A, twelve, please proceed to counter three"),
        ("AB123", "Counter 12A", EN,
         "Queue number A, B, one hundred twenty-three, please proceed to counter twelve A"),
        ("E105", "Counter 4", VoiceSettings(lang="en", number_style="digits", zero_word="kosong"),
         "Queue number E, one oh five, please proceed to counter four"),
    ],
)  # fmt: skip
def test_sentences(ticket: str, counter: str, settings: VoiceSettings, text: str) -> None:
    assert build_announcement(ticket, counter, settings).text == text


def test_words_spell_letters_by_name() -> None:
    a = build_announcement("A012", "Loket 3", ID)
    assert a.words == [
        "nomor", "antrian", "a", "dua", "belas", "silakan", "menuju", "loket", "tiga",
    ]  # fmt: skip
    assert a.lang == "id"
    keys = [t.key for t in a.tokens]
    assert keys == [
        "nomor", "antrian", "huruf_a", "dua", "belas", "silakan", "menuju", "loket", "tiga",
    ]  # fmt: skip
    assert [t.word for t in a.tokens if t.pause_after] == ["a", "belas"]
    en = build_announcement("WB7", "Counter 1", EN)
    assert en.words[2:5] == ["double-u", "bee", "seven"]
    assert [t.key for t in en.tokens][2:4] == ["letter_w", "letter_b"]
    assert [t.text for t in en.tokens][2:4] == ["W", "B"]


def test_standard_spelling_silakan() -> None:
    text = build_announcement("A1", "Loket 1", ID).text
    assert "silakan" in text and "silahkan" not in text


def test_custom_templates() -> None:
    s = VoiceSettings(template_id="Antrian {number} ke {counter} di lantai 2.")
    a = build_announcement("D4", "Loket SKCK 1", s)
    assert a.text == "Antrian de, empat ke loket es ka ce ka satu di lantai dua."
    assert a.words[-3:] == ["di", "lantai", "dua"]
    s = VoiceSettings(template_id="{counter}: {number}, {counter}")
    assert build_announcement("A1", "Loket 3", s).text == "loket tiga: a, satu, loket tiga"
    s = VoiceSettings(template_id="Nomor {{VIP}} {number} ke {counter}")
    assert build_announcement("A1", "Loket 3", s).text == "Nomor VIP a, satu ke loket tiga"


def test_template_follows_the_language() -> None:
    s = VoiceSettings(lang="en", template_id="{number} {counter}", template_en="{counter} {number}")
    assert build_announcement("A5", "Counter 2", s).text == "counter two A, five"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Nomor antrian {number}", "lacks the required placeholder {counter}"),
        ("Silakan ke {counter}", "lacks the required placeholder {number}"),
        ("Nomor", "{number} and {counter}"),
        ("Nomor {nomor} ke {counter}", "unknown placeholder {nomor}"),
        ("Nomor {number} ke {counter} {loket}", "unknown placeholder {loket}"),
        ("Nomor {} ke {counter}", "unknown placeholder {}"),
        ("Nomor {0} ke {counter}", "unknown placeholder {0}"),
        ("Nomor {number.x} ke {counter}", "unknown placeholder {number.x}"),
        ("Nomor {number:>5} ke {counter}", "takes no format"),
        ("Nomor {number!r} ke {counter}", "takes no format"),
        ("Nomor {number ke {counter}", "malformed"),
        ("Nomor number} ke {counter}", "malformed"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_template_validation(template: str, message: str) -> None:
    with pytest.raises(ValueError, match="template") as info:
        validate_template(template)
    assert message in str(info.value)
    with pytest.raises(ValueError):
        VoiceSettings(template_id=template)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lang": "jv"},
        {"number_style": "roman"},
        {"zero_word": "zero"},
        {"repeats": 0},
        {"repeats": 6},
        {"repeats": True},
        {"template_en": "Queue {number}"},
    ],
)
def test_voice_settings_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        VoiceSettings(**kwargs)


@pytest.mark.parametrize("bad", ["", "A", "ABCD1", "A-", "1234567", "A12B", "Ä12", "A 1 2"])
def test_bad_ticket_numbers(bad: str) -> None:
    with pytest.raises(ValueError, match="not a ticket number"):
        build_announcement(bad, "Loket 1", ID)


def test_ticket_number_parsing() -> None:
    assert parse_ticket_number("A012") == ("A", "012")
    assert parse_ticket_number(" abc-0001 ") == ("ABC", "0001")
    assert parse_ticket_number("42") == ("", "42")


def test_empty_counter() -> None:
    with pytest.raises(ValueError, match="counter"):
        build_announcement("A1", "  ", ID)


def test_announcement_from_words_alone() -> None:
    a = Announcement("Halo semua", ["halo", "semua"])
    assert [t.key for t in a.tokens] == ["halo", "semua"]
    with pytest.raises(ValueError):
        Announcement("x", ["x"], lang="fr")


@given(
    prefix=st.text(alphabet=string.ascii_uppercase, max_size=3),
    number=st.integers(min_value=0, max_value=9999),
    counter=st.integers(min_value=1, max_value=60),
    digits=st.booleans(),
    lang=st.sampled_from(["id", "en"]),
)
def test_words_match_the_text(prefix: str, number: int, counter: int, digits: bool, lang: str) -> None:
    settings = VoiceSettings(lang=lang, number_style="digits" if digits else "whole")
    a = build_announcement(f"{prefix}{number:03d}", f"Loket {counter}", settings)
    # Every spoken word is in the text (letters as names in Indonesian and as
    # capitals in English), in order.
    written = a.text.replace(",", " ").replace("-", " ").lower().split()
    expected = [t.text.lower() for t in a.tokens]
    assert written == expected
    assert a.text == " ".join(a.text.split())
    assert ", ," not in a.text and not a.text.endswith(",")


ESPEAK = shutil.which("espeak-ng")

# espeak-ng 1.51's Indonesian phonemes for the letter names, as it prints
# them for the names on their own.  A capital letter in the text would be
# read differently for some (E as "_|e", F as "_|@f").
ID_LETTER_PHONEMES = {
    "A": "'a", "B": "b'E", "C": "tS'E", "D": "d'E", "E": "'e", "F": "'Ef", "G": "g'E",
    "H": "h'a", "I": "'i", "J": "dZ'E", "K": "k'a", "L": "'El", "M": "'Em", "N": "'En",
    "O": "'o", "P": "p'E", "Q": "k'i", "R": "'ER", "S": "'es", "T": "t'E", "U": "'u",
    "V": "f'E", "W": "w'E", "X": "'Eks", "Y": "j'E", "Z": "z'Et",
}  # fmt: skip


def _phonemes(text: str, voice: str) -> list[str]:
    out = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", voice, text], capture_output=True, check=True, timeout=10
    ).stdout.decode()
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")
def test_espeak_indonesian_voice_says_letter_names() -> None:
    for letter, phonemes in ID_LETTER_PHONEMES.items():
        text = build_announcement(f"{letter}001", "Loket 1", ID).text
        first = _phonemes(text, "id")[0]
        assert first == f"n'omOR antR2'ian {phonemes}", (letter, text, first)


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")
def test_espeak_english_voice_says_letter_names() -> None:
    # "A" before a word is read as the article ("a#"); the comma prevents it.
    for ticket, expected in [("A12", "'eI"), ("AB12", "'eI"), ("I12", "'aI"), ("Z12", "z'Ed")]:
        text = build_announcement(ticket, "Counter 1", EN).text
        first = _phonemes(text, "en")[0]
        # "number" ends in a linking r before a vowel: "n'Vmb3r-" or "n'Vmb3".
        assert first.startswith("kj'u: n'Vmb3"), (ticket, text, first)
        assert first.split()[-1] == expected, (ticket, text, first)
    assert _phonemes("number A twelve", "en")[0] == "n'Vmb3r- a# tw'Elv"  # the trap avoided
