"""Time in the MPP's own time zone.

From 17:00 UTC it is already the next day in Asia/Jakarta: daily numbering,
"today" and every report date use the MPP's zone, never UTC or the machine's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Jakarta"


class Clock:
    """The current time, aware, in the MPP's zone.  Tests replace ``now``."""

    def __init__(self, tz: str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def day_of(self, moment: datetime) -> str:
        """The local date (ISO) a moment belongs to."""
        return self.local(moment).date().isoformat()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return start, start + timedelta(days=1)


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, benchmarks, replays)."""

    def __init__(self, start: datetime, tz: str = DEFAULT_TZ) -> None:
        super().__init__(tz)
        self._now = start.astimezone(self.tz)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(self.tz)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with offset, to the second (what the API shows)."""
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)
