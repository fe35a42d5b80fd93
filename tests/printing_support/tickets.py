"""Sample tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from printing.ticket import TicketPrint

# Monday 23 November 2026, 08:15 in Jakarta.
MONDAY_0815 = datetime(2026, 11, 23, 8, 15, tzinfo=ZoneInfo("Asia/Jakarta"))
TRACK_URL = "http://antre.local/t/8f3a2c91"


def make_ticket(**overrides: Any) -> TicketPrint:
    fields: dict[str, Any] = {
        "mpp_name": "MPP Kota Bandung",
        "tenant_name": "Disdukcapil",
        "service_name": "Perekaman KTP-el",
        "number": "A012",
        "people_ahead": 4,
        "eta_minutes": 15,
        "issued_at": MONDAY_0815,
        "counters": ["Loket 1", "Loket 2"],
        "track_url": TRACK_URL,
        "footer": "",
        "lang": "id",
        "priority": False,
    }
    fields.update(overrides)
    return TicketPrint(**fields)
