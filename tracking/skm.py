"""The nine SKM elements (PermenPANRB 14/2017) as the visitor is asked them.

The official wording lives in :mod:`antre.survey` (one source for the
tracking page, the counter tablet and the reports); this module only shapes it
for the page: (element, question, [answer for 1, 2, 3, 4]), Indonesian msgids
whose English is in the tracking catalog.
"""

from __future__ import annotations

from antre import survey

ELEMENTS = tuple((e.name, e.question, e.answers) for e in survey.ELEMENTS)


def msgids() -> list[str]:
    out: list[str] = []
    for element, question, answers in ELEMENTS:
        out += [element, question, *answers]
    return out
