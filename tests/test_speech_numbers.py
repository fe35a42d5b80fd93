"""Indonesian and English number words, digit reading and letter names.

The expected words below are written out by hand, not produced by the code
under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speech.numbers import digit_words, letter_name, number_words, spell_letters

# Every number from 0 to 120, by hand.
ID_0_TO_120 = """
0 nol
1 satu
2 dua
3 tiga
4 empat
5 lima
6 enam
7 tujuh
8 delapan
9 sembilan
10 sepuluh
11 sebelas
12 dua belas
13 tiga belas
14 empat belas
15 lima belas
16 enam belas
17 tujuh belas
18 delapan belas
19 sembilan belas
20 dua puluh
21 dua puluh satu
22 dua puluh dua
23 dua puluh tiga
24 dua puluh empat
25 dua puluh lima
26 dua puluh enam
27 dua puluh tujuh
28 dua puluh delapan
29 dua puluh sembilan
30 tiga puluh
31 tiga puluh satu
32 tiga puluh dua
33 tiga puluh tiga
34 tiga puluh empat
35 tiga puluh lima
36 tiga puluh enam
37 tiga puluh tujuh
38 tiga puluh delapan
39 tiga puluh sembilan
40 empat puluh
41 empat puluh satu
42 empat puluh dua
43 empat puluh tiga
44 empat puluh empat
45 empat puluh lima
46 empat puluh enam
47 empat puluh tujuh
48 empat puluh delapan
49 empat puluh sembilan
50 lima puluh
51 lima puluh satu
52 lima puluh dua
53 lima puluh tiga
54 lima puluh empat
55 lima puluh lima
56 lima puluh enam
57 lima puluh tujuh
58 lima puluh delapan
59 lima puluh sembilan
60 enam puluh
61 enam puluh satu
62 enam puluh dua
63 enam puluh tiga
64 enam puluh empat
65 enam puluh lima
66 enam puluh enam
67 enam puluh tujuh
68 enam puluh delapan
69 enam puluh sembilan
70 tujuh puluh
71 tujuh puluh satu
72 tujuh puluh dua
73 tujuh puluh tiga
74 tujuh puluh empat
75 tujuh puluh lima
76 tujuh puluh enam
77 tujuh puluh tujuh
78 tujuh puluh delapan
79 tujuh puluh sembilan
80 delapan puluh
81 delapan puluh satu
82 delapan puluh dua
83 delapan puluh tiga
84 delapan puluh empat
85 delapan puluh lima
86 delapan puluh enam
87 delapan puluh tujuh
88 delapan puluh delapan
89 delapan puluh sembilan
90 sembilan puluh
91 sembilan puluh satu
92 sembilan puluh dua
93 sembilan puluh tiga
94 sembilan puluh empat
95 sembilan puluh lima
96 sembilan puluh enam
97 sembilan puluh tujuh
98 sembilan puluh delapan
99 sembilan puluh sembilan
100 seratus
101 seratus satu
102 seratus dua
103 seratus tiga
104 seratus empat
105 seratus lima
106 seratus enam
107 seratus tujuh
108 seratus delapan
109 seratus sembilan
110 seratus sepuluh
111 seratus sebelas
112 seratus dua belas
113 seratus tiga belas
114 seratus empat belas
115 seratus lima belas
116 seratus enam belas
117 seratus tujuh belas
118 seratus delapan belas
119 seratus sembilan belas
120 seratus dua puluh
"""

# Further values up to 999, by hand.
ID_121_TO_999 = """
121 seratus dua puluh satu
125 seratus dua puluh lima
130 seratus tiga puluh
137 seratus tiga puluh tujuh
142 seratus empat puluh dua
150 seratus lima puluh
158 seratus lima puluh delapan
163 seratus enam puluh tiga
176 seratus tujuh puluh enam
181 seratus delapan puluh satu
194 seratus sembilan puluh empat
199 seratus sembilan puluh sembilan
200 dua ratus
201 dua ratus satu
209 dua ratus sembilan
210 dua ratus sepuluh
211 dua ratus sebelas
212 dua ratus dua belas
219 dua ratus sembilan belas
220 dua ratus dua puluh
250 dua ratus lima puluh
299 dua ratus sembilan puluh sembilan
300 tiga ratus
301 tiga ratus satu
310 tiga ratus sepuluh
311 tiga ratus sebelas
315 tiga ratus lima belas
333 tiga ratus tiga puluh tiga
345 tiga ratus empat puluh lima
400 empat ratus
404 empat ratus empat
411 empat ratus sebelas
417 empat ratus tujuh belas
444 empat ratus empat puluh empat
480 empat ratus delapan puluh
500 lima ratus
505 lima ratus lima
510 lima ratus sepuluh
512 lima ratus dua belas
555 lima ratus lima puluh lima
590 lima ratus sembilan puluh
600 enam ratus
606 enam ratus enam
616 enam ratus enam belas
660 enam ratus enam puluh
678 enam ratus tujuh puluh delapan
700 tujuh ratus
707 tujuh ratus tujuh
711 tujuh ratus sebelas
717 tujuh ratus tujuh belas
770 tujuh ratus tujuh puluh
789 tujuh ratus delapan puluh sembilan
800 delapan ratus
808 delapan ratus delapan
811 delapan ratus sebelas
818 delapan ratus delapan belas
888 delapan ratus delapan puluh delapan
890 delapan ratus sembilan puluh
900 sembilan ratus
901 sembilan ratus satu
910 sembilan ratus sepuluh
911 sembilan ratus sebelas
919 sembilan ratus sembilan belas
990 sembilan ratus sembilan puluh
999 sembilan ratus sembilan puluh sembilan
"""

ID_THOUSANDS = """
1000 seribu
1001 seribu satu
1010 seribu sepuluh
1011 seribu sebelas
1100 seribu seratus
1115 seribu seratus lima belas
1234 seribu dua ratus tiga puluh empat
2000 dua ribu
2019 dua ribu sembilan belas
3300 tiga ribu tiga ratus
5555 lima ribu lima ratus lima puluh lima
9999 sembilan ribu sembilan ratus sembilan puluh sembilan
11000 sebelas ribu
100000 seratus ribu
999999 sembilan ratus sembilan puluh sembilan ribu sembilan ratus sembilan puluh sembilan
"""

EN = """
0 zero
7 seven
10 ten
11 eleven
12 twelve
13 thirteen
15 fifteen
19 nineteen
20 twenty
21 twenty-one
40 forty
58 fifty-eight
99 ninety-nine
100 one hundred
101 one hundred one
110 one hundred ten
115 one hundred fifteen
123 one hundred twenty-three
999 nine hundred ninety-nine
1000 one thousand
1001 one thousand one
2024 two thousand twenty-four
9999 nine thousand nine hundred ninety-nine
"""


def _table(text: str) -> list[tuple[int, str]]:
    rows = []
    for line in text.strip().splitlines():
        number, words = line.split(" ", 1)
        rows.append((int(number), words))
    return rows


def test_tables_are_complete() -> None:
    assert [n for n, _ in _table(ID_0_TO_120)] == list(range(121))
    further = [n for n, _ in _table(ID_121_TO_999)]
    assert len(further) >= 60
    assert {100, 101, 110, 111, 115, 199, 200, 210, 999} <= set(further) | set(range(121))


@pytest.mark.parametrize(("n", "words"), _table(ID_0_TO_120) + _table(ID_121_TO_999))
def test_indonesian_0_to_999(n: int, words: str) -> None:
    assert number_words(n, "id") == words


@pytest.mark.parametrize(("n", "words"), _table(ID_THOUSANDS))
def test_indonesian_thousands(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("n", "words"), _table(EN))
def test_english(n: int, words: str) -> None:
    assert number_words(n, "en") == words


# An independent reader of Indonesian number words, used as an oracle for
# every number up to 9999: it knows the words, not the code that makes them.
_DIGITS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
    "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9,
}  # fmt: skip
_SE = {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000}


def _read_indonesian(text: str) -> int:
    if text == "nol":
        return 0
    total = 0
    group = 0  # the value below a thousand being built
    pending = 0  # the last digit word, waiting for its multiplier
    for word in text.split():
        if word in _DIGITS:
            assert pending == 0, f"two digit words in a row in {text!r}"
            pending = _DIGITS[word]
        elif word == "belas":
            group += 10 + pending
            pending = 0
        elif word == "puluh":
            group += pending * 10
            pending = 0
        elif word == "ratus":
            group += pending * 100
            pending = 0
        elif word == "ribu":
            total += (group + pending) * 1000
            group = pending = 0
        elif word == "seribu":
            total += 1000
        elif word in _SE:
            group += _SE[word]
        else:
            raise AssertionError(f"unknown word {word!r} in {text!r}")
    return total + group + pending


def test_every_number_to_9999_reads_back() -> None:
    seen: set[str] = set()
    for n in range(10000):
        words = number_words(n)
        assert _read_indonesian(words) == n, words
        assert "  " not in words and words == words.strip()
        assert "satu puluh" not in words and "satu ratus" not in words
        assert "satu ribu" not in words and "satu belas" not in words
        seen.add(words)
    assert len(seen) == 10000


@given(st.integers(min_value=0, max_value=999_999))
def test_indonesian_vocabulary(n: int) -> None:
    vocabulary = set(_DIGITS) | set(_SE) | {"nol", "belas", "puluh", "ratus", "ribu"}
    assert set(number_words(n).split()) <= vocabulary


@pytest.mark.parametrize("bad", [-1, 1_000_000])
def test_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        number_words(bad)


def test_not_an_int() -> None:
    with pytest.raises(TypeError):
        number_words("12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_words(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        number_words(3, "fr")


@pytest.mark.parametrize(
    ("digits", "lang", "zero", "expected"),
    [
        ("012", "id", "nol", "nol satu dua"),
        ("012", "id", "kosong", "kosong satu dua"),
        ("123", "id", None, "satu dua tiga"),
        ("1000", "id", "kosong", "satu kosong kosong kosong"),
        ("9876543210", "id", "nol", "sembilan delapan tujuh enam lima empat tiga dua satu nol"),
        ("012", "en", "zero", "zero one two"),
        ("012", "en", "oh", "oh one two"),
        ("105", "en", "kosong", "one oh five"),
        ("105", "en", "nol", "one zero five"),
        ("0", "en", None, "zero"),
    ],
)
def test_digit_by_digit(digits: str, lang: str, zero: str | None, expected: str) -> None:
    assert digit_words(digits, lang, zero) == expected


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "-1", "\u0661\u0662"])
def test_digit_reading_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        digit_words(bad)


def test_zero_word_must_fit_the_language() -> None:
    with pytest.raises(ValueError):
        digit_words("0", "id", "zero")
    with pytest.raises(ValueError):
        digit_words("0", "id", "kosongan")


ID_LETTERS = (
    "A a|B be|C ce|D de|E e|F ef|G ge|H ha|I i|J je|K ka|L el|M em|N en|O o|P pe|"
    "Q ki|R er|S es|T te|U u|V fe|W we|X eks|Y ye|Z zet"
)
EN_LETTERS = (
    "A ay|B bee|C cee|D dee|E ee|F ef|G gee|H aitch|I eye|J jay|K kay|L el|M em|"
    "N en|O oh|P pee|Q cue|R ar|S ess|T tee|U you|V vee|W double-u|X ex|Y why|Z zed"
)


@pytest.mark.parametrize(("table", "lang"), [(ID_LETTERS, "id"), (EN_LETTERS, "en")])
def test_letter_names(table: str, lang: str) -> None:
    pairs = [item.split(" ") for item in table.split("|")]
    assert [p[0] for p in pairs] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for letter, name in pairs:
        assert letter_name(letter, lang) == name
        assert letter_name(letter.lower(), lang) == name


def test_spell_letters() -> None:
    assert spell_letters("AB") == ["a", "be"]
    assert spell_letters("qvx") == ["ki", "fe", "eks"]
    assert spell_letters("WZ", "en") == ["double-u", "zed"]


@pytest.mark.parametrize("bad", ["", "AB", "1", "É", " "])
def test_letter_name_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        letter_name(bad)
