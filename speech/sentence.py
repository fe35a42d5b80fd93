"""The call-out sentence: "Nomor antrian A, dua belas, silakan menuju loket tiga".

:func:`build_announcement` turns a ticket number and a counter name into an
:class:`Announcement`: the exact ``text`` handed to a synthesizer and the
spoken ``words`` (with a clip key per word, used to join recorded clips).

The ``text`` is written so that the synthesizer reads it right rather than as
it would be printed: espeak-ng's Indonesian voice says a capital "E" or "F"
differently from the letter names "e" and "ef", so Indonesian text carries
the letter *names* in lower case ("Nomor antrian be, dua belas").  The English
voice reads a lone capital letter as its name but "a" as the article, so
English text keeps capital letters and puts a comma after them when a word
follows ("Queue number A, twelve").
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field

from speech.numbers import LANGS, MAX_NUMBER, ZERO_WORDS, digit_words, letter_name, number_words

DEFAULT_TEMPLATE_ID = "Nomor antrian {number}, silakan menuju {counter}"
DEFAULT_TEMPLATE_EN = "Queue number {number}, please proceed to {counter}"
PLACEHOLDERS = ("number", "counter")
NUMBER_STYLES = ("whole", "digits")
MAX_REPEATS = 5

# A prefix of 0-3 letters, an optional "-" or space, then the (zero-padded) number.
_TICKET_RE = re.compile(r"^\s*([A-Za-z]{0,3})[\s-]?(\d{1,6})\s*$")
_FRAGMENT_RE = re.compile(r"\d+|[^\W\d_]+|[,.;:!?]|\s+|.", re.UNICODE)
_PAUSE_MARKS = ",.;:!?"
_VOWELS = set("AEIOU")


@dataclass(frozen=True)
class Token:
    """One spoken word of an announcement.

    ``word`` is the word as spoken ("be", "dua", "bee"), ``key`` names its
    recorded clip (``sounds/<lang>/<key>.wav``; letters are ``huruf_b`` in
    Indonesian and ``letter_b`` in English so they never clash with words),
    ``text`` is how the word is written for a synthesizer when it must be
    synthesized on its own, and ``pause_after`` marks a comma-like pause.
    """

    word: str
    key: str
    text: str
    pause_after: bool = False
    letter: bool = False


@dataclass(frozen=True)
class Announcement:
    """A call-out sentence: ``text`` is exactly what is spoken; ``words`` are its words."""

    text: str
    words: list[str]
    lang: str = "id"
    tokens: tuple[Token, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"unsupported language {self.lang!r}")
        if not self.tokens:
            object.__setattr__(
                self, "tokens", tuple(Token(w, clip_key(w), w) for w in self.words)
            )
        if [t.word for t in self.tokens] != list(self.words):
            raise ValueError("tokens do not match words")


@dataclass
class VoiceSettings:
    """How calls are spoken; the admin's voice settings.

    ``zero_word`` ("nol" or "kosong") is used for 0 when numbers are read
    digit by digit; English speech maps it to "zero" or "oh".  ``repeats``
    is how many times the player says each call; it does not change the
    prepared audio file.
    """

    lang: str = "id"
    number_style: str = "whole"
    zero_word: str = "nol"
    template_id: str = DEFAULT_TEMPLATE_ID
    template_en: str = DEFAULT_TEMPLATE_EN
    repeats: int = 1
    chime: bool = True

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {self.lang!r}")
        if self.number_style not in NUMBER_STYLES:
            raise ValueError(
                f"number_style must be one of {', '.join(NUMBER_STYLES)}, "
                f"not {self.number_style!r}"
            )
        if self.zero_word not in ZERO_WORDS["id"]:
            raise ValueError(
                f"zero_word must be one of {', '.join(ZERO_WORDS['id'])}, not {self.zero_word!r}"
            )
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int):
            raise ValueError("repeats must be an integer")
        if not 1 <= self.repeats <= MAX_REPEATS:
            raise ValueError(f"repeats must be 1..{MAX_REPEATS}, not {self.repeats}")
        validate_template(self.template_id)
        validate_template(self.template_en)

    @property
    def template(self) -> str:
        """The template of the configured language."""
        return self.template_id if self.lang == "id" else self.template_en


def validate_template(template: str) -> None:
    """Raise :class:`ValueError` unless ``template`` is a usable call template.

    It must contain ``{number}`` and ``{counter}`` and no other placeholder;
    literal braces are written ``{{`` and ``}}``.
    """
    if not isinstance(template, str) or not template.strip():
        raise ValueError("template is empty")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r} is malformed: {exc}") from None
    seen: set[str] = set()
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = "{" + name + "}" if name else "{}"
            raise ValueError(
                f"template {template!r} has unknown placeholder {shown}; allowed: {allowed}"
            )
        if spec or conversion:
            raise ValueError(
                f"template {template!r}: placeholder {{{name}}} takes no format or conversion"
            )
        seen.add(name)
    missing = [p for p in PLACEHOLDERS if p not in seen]
    if missing:
        raise ValueError(
            f"template {template!r} lacks the required placeholder "
            + " and ".join("{" + p + "}" for p in missing)
        )


def clip_key(word: str) -> str:
    """File-name key of a word or phrase: lower case ASCII, words joined by "_"."""
    ascii_text = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def letter_key(letter: str, lang: str) -> str:
    """Clip key of a letter: ``huruf_a`` (Indonesian) or ``letter_a`` (English)."""
    return ("huruf_" if lang == "id" else "letter_") + letter.lower()


class _Builder:
    """Accumulates the written text and the spoken tokens of a sentence."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.text: list[str] = []
        self.tokens: list[Token] = []

    def space(self) -> None:
        self.text.append(" ")

    def pause(self, mark: str = ",") -> None:
        self.text.append(mark)
        if self.tokens and not self.tokens[-1].pause_after:
            last = self.tokens[-1]
            self.tokens[-1] = Token(last.word, last.key, last.text, True, last.letter)

    def word(self, written: str, lower: bool) -> None:
        self.space()
        self.text.append(written.lower() if lower else written)
        for part in re.split(r"[\s-]+", written.lower()):
            if part:
                self.tokens.append(Token(part, clip_key(part), part))

    def number(self, n: int) -> None:
        self.word(number_words(n, self.lang), lower=True)

    def digits(self, digits: str, zero_word: str) -> None:
        self.word(digit_words(digits, self.lang, zero_word), lower=True)

    def letters(self, letters: str) -> None:
        """Spell ``letters`` by name (see the module docstring for the written form)."""
        names = []
        for i, ch in enumerate(letters):
            name = letter_name(ch, self.lang)
            written = name if self.lang == "id" else ch.upper()
            # English: a comma after each letter ("A, B") keeps "A" from being
            # read as the article.
            pause = self.lang == "en" and i < len(letters) - 1
            self.tokens.append(
                Token(name, letter_key(ch, self.lang), written, pause_after=pause, letter=True)
            )
            names.append(written)
        self.space()
        self.text.append((", " if self.lang == "en" else " ").join(names))

    def fragment(self, fragment: str, *, spell_single: bool, lower: bool) -> None:
        """Add free text: numbers become words and acronyms are spelled.

        An all-capital token without vowels ("BPJS", "SKCK") is spelled;
        with ``spell_single`` so is a lone letter ("Loket 12A", "Loket B").
        """
        pieces = _FRAGMENT_RE.findall(fragment)
        after_letters = False
        for piece in pieces:
            if piece.isspace():
                self.space()
                continue
            if piece in _PAUSE_MARKS:
                self.pause(piece)
                after_letters = False
                continue
            is_word = piece.isdigit() or piece.isalpha()
            if after_letters and is_word and self.lang == "en":
                self.pause(",")
                self.space()
            after_letters = False
            if piece.isascii() and piece.isdigit():
                n = int(piece)
                if n <= MAX_NUMBER:
                    self.number(n)
                else:
                    self.digits(piece, "nol")
            elif piece.isascii() and piece.isalpha() and _is_spelled(piece, spell_single):
                self.letters(piece)
                after_letters = True
            elif piece.isalpha():
                self.word(piece, lower)
            else:
                self.space()  # "-", "/", "(" and the like: a word break

    def result(self) -> tuple[str, tuple[Token, ...]]:
        text = re.sub(r"\s+", " ", "".join(self.text))
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        text = re.sub(r"([,.;:!?])[,.;:!?]*", r"\1", text)
        text = text.strip(" ,;:")
        return text, tuple(self.tokens)


def _is_spelled(piece: str, spell_single: bool) -> bool:
    if len(piece) == 1:
        return spell_single
    return piece.isupper() and not (set(piece) & _VOWELS)


def parse_ticket_number(ticket_number: str) -> tuple[str, str]:
    """Split "A012" into ("A", "012"); raise :class:`ValueError` if it is not a ticket number."""
    match = _TICKET_RE.match(ticket_number or "")
    if not match:
        raise ValueError(
            f"not a ticket number: {ticket_number!r} (expected 0-3 letters and up to 6 digits)"
        )
    return match.group(1).upper(), match.group(2)


def build_announcement(
    ticket_number: str, counter_name: str, settings: VoiceSettings
) -> Announcement:
    """The call-out sentence for ``ticket_number`` going to ``counter_name``.

    "A012" to "Loket 3" gives "Nomor antrian a, dua belas, silakan menuju loket
    tiga" with the default Indonesian settings.  The prefix is spelled by
    letter names; the number is read whole or digit by digit as configured
    (digit reading keeps the zero padding: "nol satu dua").  Numbers inside
    the counter name are always read whole ("Loket 12A": "loket dua belas a").
    """
    prefix, digits = parse_ticket_number(ticket_number)
    if not counter_name or not counter_name.strip():
        raise ValueError("counter name is empty")
    lang = settings.lang
    template = settings.template
    validate_template(template)
    b = _Builder(lang)
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            b.fragment(literal, spell_single=False, lower=False)
        if name == "number":
            if prefix:
                b.letters(prefix)
                b.pause(",")
                b.space()
            if settings.number_style == "digits":
                b.digits(digits, settings.zero_word)
            else:
                b.number(int(digits))
        elif name == "counter":
            b.fragment(counter_name.strip(), spell_single=True, lower=True)
    text, tokens = b.result()
    if not tokens:
        raise ValueError("the announcement has no words")
    return Announcement(text=text, words=[t.word for t in tokens], lang=lang, tokens=tokens)
