"""The SKM survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017) and its index (IKM).

The nine elements (*unsur*) are asked in the order of the regulation's list
(Lampiran, "Ruang lingkup"): a response is nine scores, ``scores[i]`` for
``ELEMENTS[i]``, each 1 (worst) to 4 (best), the four answers of the standard
questionnaire.

The index, as the regulation computes it:

* NRR per element = the mean of its scores over the responses;
* IKM = Σ over the nine elements of (NRR × 1/9), on the 1–4 scale.  The
  regulation prints the weight as "1/9 = 0,11"; 0,11 is that fraction rounded
  for print (with 0,11 a perfect service would score 99, not 100), so the exact
  1/9 is used;
* converted IKM = IKM × 25, on the 25–100 scale;
* quality grade (*mutu pelayanan*) of the converted value: A 88,31–100,00
  (sangat baik), B 76,61–88,30 (baik), C 65,00–76,60 (kurang baik),
  D 25,00–64,99 (tidak baik).

Rounding, decided here and documented in the API: the converted value is
computed exactly (fractions of integer sums, no float error), then rounded to
two decimals half-up, the precision in which the regulation states its bands;
the grade is looked up with that same two-decimal value.  The bands leave gaps
of 0,01 (88,30 | 88,31), which only make sense for two-decimal values, and this
way the figure a manager reads and its grade always agree.  Element means are
rounded half-up to two decimals for display (the regulation's tables show NRR
to two or three decimals); the index is computed from the unrounded means.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from antre.rules import Invalid

N_ELEMENTS = 9
MIN_SCORE, MAX_SCORE = 1, 4
COMMENT_MAX = 500
#: where a response came from
CHANNELS = ("tracking", "tablet", "api")


def N_(text: str) -> str:  # noqa: N802 - the conventional gettext marker
    """Marks a msgid; pages translate it when they draw it."""
    return text


@dataclass(frozen=True)
class Element:
    """One of the nine elements: its name, the standard question and the four answers (1→4)."""

    code: str
    name: str
    question: str
    answers: tuple[str, str, str, str]
    name_en: str
    question_en: str
    answers_en: tuple[str, str, str, str]


#: The nine elements in the regulation's order, official Indonesian wording, with English.
ELEMENTS: tuple[Element, ...] = (
    Element("U1", N_("Persyaratan"),
            N_("Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?"),
            (N_("Tidak sesuai"), N_("Kurang sesuai"), N_("Sesuai"), N_("Sangat sesuai")),
            "Requirements",
            "How well do the service requirements fit the kind of service?",
            ("Not appropriate", "Less appropriate", "Appropriate", "Very appropriate")),
    Element("U2", N_("Sistem, Mekanisme, dan Prosedur"),
            N_("Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?"),
            (N_("Tidak mudah"), N_("Kurang mudah"), N_("Mudah"), N_("Sangat mudah")),
            "Systems, mechanisms and procedures",
            "How easy is the service procedure at this unit?",
            ("Not easy", "Less easy", "Easy", "Very easy")),
    Element("U3", N_("Waktu Penyelesaian"),
            N_("Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?"),
            (N_("Tidak cepat"), N_("Kurang cepat"), N_("Cepat"), N_("Sangat cepat")),
            "Completion time",
            "How fast was the service given?",
            ("Not fast", "Less fast", "Fast", "Very fast")),
    Element("U4", N_("Biaya/Tarif"),
            N_("Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?"),
            (N_("Sangat mahal"), N_("Cukup mahal"), N_("Murah"), N_("Gratis")),
            "Cost/fee",
            "How fair is the cost or fee of the service?",
            ("Very expensive", "Rather expensive", "Cheap", "Free")),
    Element("U5", N_("Produk Spesifikasi Jenis Pelayanan"),
            N_("Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum dalam standar "
               "pelayanan dengan hasil yang diberikan?"),
            (N_("Tidak sesuai"), N_("Kurang sesuai"), N_("Sesuai"), N_("Sangat sesuai")),
            "Product specification of the type of service",
            "How well does the result you received match the product listed in the service standard?",
            ("Not appropriate", "Less appropriate", "Appropriate", "Very appropriate")),
    Element("U6", N_("Kompetensi Pelaksana"),
            N_("Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?"),
            (N_("Tidak kompeten"), N_("Kurang kompeten"), N_("Kompeten"), N_("Sangat kompeten")),
            "Competence of the staff",
            "How competent/capable were the staff who served you?",
            ("Not competent", "Less competent", "Competent", "Very competent")),
    Element("U7", N_("Perilaku Pelaksana"),
            N_("Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan dan "
               "keramahan?"),
            (N_("Tidak sopan dan ramah"), N_("Kurang sopan dan ramah"), N_("Sopan dan ramah"),
             N_("Sangat sopan dan ramah")),
            "Conduct of the staff",
            "How polite and friendly were the staff who served you?",
            ("Not polite and friendly", "Less polite and friendly", "Polite and friendly",
             "Very polite and friendly")),
    Element("U8", N_("Penanganan Pengaduan, Saran dan Masukan"),
            N_("Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?"),
            (N_("Tidak ada"), N_("Ada tetapi tidak berfungsi"), N_("Berfungsi kurang maksimal"),
             N_("Dikelola dengan baik")),
            "Handling of complaints, suggestions and feedback",
            "How are the complaints of service users handled?",
            ("None", "Exists but does not work", "Works, but not fully", "Well managed")),
    Element("U9", N_("Sarana dan Prasarana"),
            N_("Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?"),
            (N_("Buruk"), N_("Cukup"), N_("Baik"), N_("Sangat baik")),
            "Facilities and infrastructure",
            "What is the quality of the facilities and infrastructure?",
            ("Poor", "Fair", "Good", "Very good")),
)

#: (lowest converted value, grade, Indonesian label, English label), best first
GRADES: tuple[tuple[Decimal, str, str, str], ...] = (
    (Decimal("88.31"), "A", N_("Sangat baik"), "Very good"),
    (Decimal("76.61"), "B", N_("Baik"), "Good"),
    (Decimal("65.00"), "C", N_("Kurang baik"), "Poor"),
    (Decimal("25.00"), "D", N_("Tidak baik"), "Very poor"),
)
GRADE_LABELS = {grade: (label_id, label_en) for _, grade, label_id, label_en in GRADES}
TWO_PLACES = Decimal("0.01")


def msgids() -> list[str]:
    """Every Indonesian text of the questionnaire (for catalogs and pages)."""
    out: list[str] = []
    for e in ELEMENTS:
        out += [e.name, e.question, *e.answers]
    return out + [label for _, _, label, _ in GRADES]


# --------------------------------------------------------------- validation


def _integral(value: Any) -> int | None:
    """``value`` as an int when JSON meant an integer (``4`` or ``4.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def validate_scores(scores: Any) -> list[int]:
    """Nine integers 1–4, or :class:`Invalid` ``invalid_scores`` that says what is wrong."""
    if not isinstance(scores, list) or len(scores) != N_ELEMENTS:
        raise Invalid(
            "invalid_scores",
            "scores harus daftar 9 bilangan bulat 1–4, satu untuk setiap unsur SKM. "
            "(scores must be a list of 9 integers from 1 to 4, one per SKM element.)",
        )
    out: list[int] = []
    for number, value in enumerate(scores, start=1):
        score = _integral(value)
        if score is None or not MIN_SCORE <= score <= MAX_SCORE:
            raise Invalid(
                "invalid_scores",
                f"Nilai unsur ke-{number} harus bilangan bulat 1–4. (Score {number} must be an integer from 1 to 4.)",
            )
        out.append(score)
    return out


def clean_comment(comment: Any) -> str:
    """The visitor's suggestion: optional, at most :data:`COMMENT_MAX` characters.

    Control characters (other than line breaks and tabs) are dropped rather
    than refused: a suggestion is kept as far as it is text.
    """
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise Invalid("invalid_comment", "comment harus teks. (comment must be a string.)")
    if len(comment) > COMMENT_MAX:
        raise Invalid(
            "comment_too_long",
            f"Saran paling banyak {COMMENT_MAX} karakter. (The comment may have at most {COMMENT_MAX} characters.)",
        )
    kept = "".join(ch for ch in comment if ch in "\n\t" or not unicodedata.category(ch).startswith("C"))
    return kept.strip()


# --------------------------------------------------------------------- IKM


def round2(value: Fraction | Decimal | int) -> Decimal:
    """Half-up to two decimals, exactly (no binary float on the way)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def grade_of(converted: Decimal) -> str:
    """The grade of a converted IKM already rounded to two decimals (25,00–100,00)."""
    for lowest, grade, _, _ in GRADES:
        if converted >= lowest:
            return grade
    return "D"


@dataclass(frozen=True)
class Ikm:
    """The index of a set of responses."""

    responses: int
    element_means: tuple[Decimal, ...] | None  # two decimals, for display
    ikm: Decimal | None  # converted, 25–100, two decimals
    grade: str | None
    raw: Fraction | None  # the unrounded converted value

    def as_json(self) -> dict[str, Any]:
        """The contract's shape; numbers as JSON numbers, null without responses."""
        return {
            "responses": self.responses,
            "element_means": [float(m) for m in self.element_means] if self.element_means else
            [None] * N_ELEMENTS,
            "ikm": float(self.ikm) if self.ikm is not None else None,
            "grade": self.grade,
        }


def ikm_from_sums(responses: int, sums: Sequence[int]) -> Ikm:
    """The index from the number of responses and the nine score totals."""
    if responses <= 0:
        return Ikm(0, None, None, None, None)
    if len(sums) != N_ELEMENTS:
        raise ValueError("nine element sums are needed")
    means = [Fraction(int(s), responses) for s in sums]
    index = sum(means, Fraction(0)) / N_ELEMENTS  # Σ NRR × 1/9, on the 1–4 scale
    raw = index * 25
    converted = round2(raw)
    return Ikm(responses, tuple(round2(m) for m in means), converted, grade_of(converted), raw)


def ikm_of(responses: Sequence[Sequence[int]]) -> Ikm:
    """The index of a list of responses (each nine scores)."""
    sums = [sum(r[i] for r in responses) for i in range(N_ELEMENTS)]
    return ikm_from_sums(len(responses), sums)
