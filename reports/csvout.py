"""CSV files that Excel opens as they are on an Indonesian PC.

Decided format (stated on the report pages too):

* UTF-8 with a byte-order mark (without it Excel reads UTF-8 as ANSI and
  garbles "Pelayanan – Instansi" or a visitor's comment);
* ``;`` between fields and a decimal COMMA in numbers (``312,5``): the list
  separator and decimal sign of Windows' Indonesian regional settings, so that
  a double click opens the columns and numbers right (a ``.`` would be read as a
  thousands separator there);
* no thousands separators; dates ``YYYY-MM-DD``; times ``YYYY-MM-DD HH:MM:SS``
  local; empty cells where there is no data;
* ``\\r\\n`` line ends and minimal quoting (Python's ``csv`` module);
* text cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return get a leading apostrophe, so that a visitor's comment can never run
  as a spreadsheet formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response

BOM = "\ufeff"
DELIMITER = ";"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as Excel in Indonesia reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(round(value, 4))
        if "e" in text or "E" in text:
            text = format(value, ".4f")
        return text.replace(".", ",")
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def render(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()


def response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    body = render(header, rows)
    resp = Response(body.encode("utf-8"), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
