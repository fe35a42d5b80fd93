"""Refresh the admin part's English catalog from its sources (a developer tool).

    ./.venv/bin/python admin/translations/update_catalog.py

Extracts every message id (the Indonesian text) from ``admin/`` (Python and
templates) and from the pairing block of ``web/templates/unpaired.html``,
keeps the English translations already in ``messages.po``, and lists the
ids that still need one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
PART = HERE.parent
ROOT = PART.parent
PO = HERE / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
#: strings of shared templates that this part added
SHARED = [ROOT / "web" / "templates" / "unpaired.html"]
SHARED_IDS_FROM = "Atau pasangkan dengan kode"


def main() -> int:
    old = {}
    if PO.exists():
        with PO.open("rb") as f:
            old = {(m.id, m.context): m.string for m in read_po(f, locale="en") if m.id}
    catalog = Catalog(locale="en", project="antre-admin", version="1", charset="utf-8", fuzzy=False,
                      copyright_holder="Antre", msgid_bugs_address="-", last_translator="Antre admin part",
                      language_team="-")
    for filename, lineno, message, _comments, context in extract_from_dir(
        PART, METHODS, keywords=KEYWORDS, options_map=OPTIONS, comment_tags=()
    ):
        if "translations" in filename:
            continue
        catalog.add(message, old.get((message, context), ""), locations=[(f"admin/{filename}", lineno)],
                    context=context)
    for shared in SHARED:
        found = list(extract_from_file("jinja2", str(shared), keywords=KEYWORDS,
                                       options={"extensions": "jinja2.ext.i18n"}))
        ids = [m for _l, m, _c, _x in found]
        if SHARED_IDS_FROM in ids:
            for lineno, message, _c, _x in found[ids.index(SHARED_IDS_FROM):]:
                catalog.add(message, old.get((message, None), ""),
                            locations=[(str(shared.relative_to(ROOT)), lineno)])
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, catalog, width=120, omit_header=False, sort_output=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    for mid in missing:
        print("MISSING:", mid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
