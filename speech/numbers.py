"""Numbers and letters as spoken words, in Indonesian and English.

Indonesian (``id``) follows standard usage: ``se-`` for one ten, eleven, one
hundred and one thousand (``sepuluh``, ``sebelas``, ``seratus``, ``seribu``),
``belas`` for 12-19, ``puluh`` for tens, ``ratus`` for hundreds and ``ribu``
for thousands, with no connecting word ("seratus dua puluh tiga").  English
(``en``) uses the American form without "and" ("one hundred twenty-three").

Letters are spoken by their names in the language's alphabet (Indonesian:
A "a", B "be", C "ce", ..., Q "ki", V "fe", X "eks", Z "zet").
"""

from __future__ import annotations

LANGS = ("id", "en")
MAX_NUMBER = 999_999

_ONES_ID = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")

_ONES_EN = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
    "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS_EN = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

LETTER_NAMES_ID: dict[str, str] = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge",
    "H": "ha", "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en",
    "O": "o", "P": "pe", "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u",
    "V": "fe", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
}  # fmt: skip

# English letter names written as words.  British "zed": the synthesizer's
# English voice (espeak-ng "en") is British and says "zed" for Z as well.
LETTER_NAMES_EN: dict[str, str] = {
    "A": "ay", "B": "bee", "C": "cee", "D": "dee", "E": "ee", "F": "ef", "G": "gee",
    "H": "aitch", "I": "eye", "J": "jay", "K": "kay", "L": "el", "M": "em",
    "N": "en", "O": "oh", "P": "pee", "Q": "cue", "R": "ar", "S": "ess", "T": "tee",
    "U": "you", "V": "vee", "W": "double-u", "X": "ex", "Y": "why", "Z": "zed",
}  # fmt: skip

# Digit-by-digit reading of 0: Indonesian says "nol" or "kosong" ("empty");
# the English counterparts are "zero" and "oh".
ZERO_WORDS: dict[str, tuple[str, ...]] = {"id": ("nol", "kosong"), "en": ("zero", "oh")}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}")


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}")


def _id_below_1000(n: int) -> list[str]:
    """Words for 1..999 (empty for 0, which is silent inside a larger number)."""
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("seratus")
    elif hundreds > 1:
        words += [_ONES_ID[hundreds], "ratus"]
    tens, ones = divmod(rest, 10)
    if tens == 0:
        if ones:
            words.append(_ONES_ID[ones])
    elif tens == 1:
        if ones == 0:
            words.append("sepuluh")
        elif ones == 1:
            words.append("sebelas")
        else:
            words += [_ONES_ID[ones], "belas"]
    else:
        words += [_ONES_ID[tens], "puluh"]
        if ones:
            words.append(_ONES_ID[ones])
    return words


def _en_below_1000(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES_EN[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS_EN[tens] + (f"-{_ONES_EN[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES_EN[rest])
    return words


def number_words(n: int, lang: str = "id") -> str:
    """``n`` (0..999,999) as words: ``number_words(123)`` is "seratus dua puluh tiga"."""
    _check_lang(lang)
    _check_number(n)
    if n == 0:
        return _ONES_ID[0] if lang == "id" else _ONES_EN[0]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if lang == "id":
        if thousands == 1:
            words.append("seribu")
        elif thousands > 1:
            words += [*_id_below_1000(thousands), "ribu"]
        words += _id_below_1000(rest)
    else:
        if thousands:
            words += [*_en_below_1000(thousands), "thousand"]
        words += _en_below_1000(rest)
    return " ".join(words)


def digit_words(digits: str, lang: str = "id", zero_word: str | None = None) -> str:
    """Read a string of digits one by one: "012" is "nol satu dua" (or "kosong satu dua").

    ``zero_word`` is "nol" or "kosong" for Indonesian and "zero" or "oh" for
    English; the Indonesian choices are also accepted for English and mapped
    ("nol" to "zero", "kosong" to "oh"), so one setting serves both languages.
    """
    _check_lang(lang)
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"expected a string of digits 0-9, got {digits!r}")
    choices = ZERO_WORDS[lang]
    if zero_word is None:
        zero = choices[0]
    elif zero_word in choices:
        zero = zero_word
    elif zero_word in ZERO_WORDS["id"]:
        zero = choices[ZERO_WORDS["id"].index(zero_word)]
    else:
        raise ValueError(f"zero word for {lang!r} must be one of {', '.join(choices)}")
    ones = _ONES_ID if lang == "id" else _ONES_EN
    return " ".join(zero if d == "0" else ones[int(d)] for d in digits)


def letter_name(letter: str, lang: str = "id") -> str:
    """The name of a Latin letter A-Z (either case) in ``lang``'s alphabet."""
    _check_lang(lang)
    names = LETTER_NAMES_ID if lang == "id" else LETTER_NAMES_EN
    if len(letter) != 1 or letter.upper() not in names:
        raise ValueError(f"not a letter A-Z: {letter!r}")
    return names[letter.upper()]


def spell_letters(letters: str, lang: str = "id") -> list[str]:
    """Letter names of every letter in ``letters``: "AB" is ["a", "be"]."""
    return [letter_name(ch, lang) for ch in letters]
