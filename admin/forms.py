"""From HTML form fields to the values :mod:`antre.config` checks, and back.

The rules live in :mod:`antre.config`; this module only reshapes what a form
sends (an opening-hours grid, a priority rule in two controls, a password typed
twice) and turns a refusal into what a form shows: a summary at the top and a
message next to the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from antre.config import DAY_NAMES
from antre.rules import WEEKDAYS, Invalid, RuleError

SPANS_PER_DAY = 2
_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})$")


@dataclass
class FormState:
    """What a form shows: the values typed, and the errors by field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: prefix of the element ids, when a page holds two forms with the same field names
    prefix: str = ""

    @property
    def summary(self) -> list[tuple[str, str]]:
        return list(self.errors.items())

    def refused(self, exc: RuleError) -> FormState:
        field_name = str(exc.details.get("field") or "form")
        self.errors.setdefault(field_name, exc.message)
        return self


def form_values(form: MultiDict[str, str], *names: str) -> dict[str, str]:
    return {name: form.get(name, "") for name in names}


def _time(text: str, field_name: str, day: str, span: int) -> str:
    match = _TIME_RE.match(text.strip())
    if match and int(match.group(1)) <= 24 and int(match.group(2)) < 60:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 or minutes == 0:
            return f"{hours:02d}:{minutes:02d}"
    name_id, name_en = DAY_NAMES[day]
    raise Invalid("invalid_time", f"Jam {name_id} sesi {span} tidak sah: {text!r}; tulis JJ:MM, misalnya 08:00. "
                                  f"({name_en} session {span}: write HH:MM, e.g. 08:00.)", field=field_name)


def hours_from_form(form: MultiDict[str, str]) -> dict[str, list[list[str]]]:
    """The opening-hours grid (``h_<day>_<n>_open`` / ``_close``) as ``{day: [[open, close], ...]}``.

    ``08.00`` and ``8:00`` are read as ``08:00``; a span with only one end is refused.
    """
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        spans = []
        for n in range(1, SPANS_PER_DAY + 1):
            open_name, close_name = f"h_{day}_{n}_open", f"h_{day}_{n}_close"
            opened, closed = form.get(open_name, "").strip(), form.get(close_name, "").strip()
            if not opened and not closed:
                continue
            name_id, name_en = DAY_NAMES[day]
            if not opened or not closed:
                missing = open_name if not opened else close_name
                raise Invalid("incomplete_hours",
                              f"Jam {name_id} sesi {n} belum lengkap: isi jam buka dan jam tutup, atau kosongkan "
                              f"keduanya. ({name_en} session {n}: fill in both times or neither.)", field=missing)
            start, end = _time(opened, open_name, day, n), _time(closed, close_name, day, n)
            if start >= end:
                raise Invalid("invalid_hours", f"Jam tutup {name_id} sesi {n} harus setelah jam bukanya. "
                                               f"({name_en} session {n}: closing must be after opening.)",
                              field=close_name)
            spans.append([start, end])
        hours[day] = spans
    return hours


def hours_fields(hours: dict[str, list[list[str]]]) -> dict[str, str]:
    """The grid's field values for stored hours."""
    out: dict[str, str] = {}
    for day in WEEKDAYS:
        for n, span in enumerate((hours or {}).get(day, [])[:SPANS_PER_DAY], start=1):
            out[f"h_{day}_{n}_open"], out[f"h_{day}_{n}_close"] = span[0], span[1]
    return out


def priority_from_form(form: MultiDict[str, str]) -> str:
    """``priority_kind`` (strict | interleave) and ``priority_every`` (N) as one rule text."""
    kind = form.get("priority_kind", "strict")
    if kind == "strict":
        return "strict"
    every = form.get("priority_every", "").strip()
    if kind != "interleave" or not every.isdigit() or not 1 <= int(every) <= 20:
        raise Invalid("invalid_priority_every",
                      "Isi N dengan angka 1–20: satu nomor prioritas dipanggil setelah setiap N nomor biasa. "
                      "(Fill in N from 1 to 20: one priority ticket after every N normal ones.)",
                      field="priority_every")
    return f"interleave {int(every)}"


def priority_fields(rule: str) -> dict[str, str]:
    if rule.startswith("interleave"):
        return {"priority_kind": "interleave", "priority_every": rule.split()[-1]}
    return {"priority_kind": "strict", "priority_every": ""}


def confirmed_password(form: MultiDict[str, str], name: str = "password") -> str:
    password = form.get(name, "")
    if password != form.get(f"{name}_confirm", ""):
        raise Invalid("password_mismatch", "Kedua kata sandi tidak sama; ketik ulang. "
                                           "(The two passwords differ; type them again.)", field=f"{name}_confirm")
    return password
