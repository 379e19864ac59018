"""A practice's business hours: is a moment inside them, how much of a period falls inside them, and when
a number of business hours after a moment runs out.

Clients ring their adviser in business hours, so an outage at 3 a.m. on a Sunday hurts less than one at
11 a.m. on a Tuesday; incidents and rollups ask the first two questions, follow-up deadlines the third.
Public holidays of the practice's country and region, and the practice's own closure days, are outside
business hours like a Sunday (issue 19): ``BusinessHours.of`` knows them, so every caller respects them.
Arithmetic on aware datetimes; knows nothing of the database (``of`` reads the practice's closure days
through its relationship, once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from partnermon.models.practice import Practice
from partnermon.practices import public_holidays

if TYPE_CHECKING:
    from holidays import HolidayBase


@dataclass(frozen=True)
class BusinessHours:
    timezone: str
    start_minute: int   # minutes after local midnight
    end_minute: int
    days: int           # bit mask, Monday = bit 0
    country: str = ""   # whose public holidays are closed ("" or a country without a calendar: none)
    region: str = ""    # and whose regional ones ("" = national only)
    closures: frozenset[date] = field(default_factory=frozenset)   # the practice's own days off

    @classmethod
    def of(cls, practice: Practice) -> "BusinessHours":
        # One query for the practice's closure days (its relationship), whatever is asked afterwards.
        return cls(practice.timezone, practice.business_start_minute, practice.business_end_minute,
                   practice.business_days, practice.country or "", practice.region or "",
                   frozenset(closure.day for closure in practice.closures))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays(self) -> "HolidayBase | None":
        # Built on first use and kept with this object; it fills in a year at a time as dates are asked about.
        return public_holidays.calendar(self.country, self.region)

    def is_closed(self, day: date) -> bool:
        """A public holiday or one of the practice's closure days (a local date)."""
        if day in self.closures:
            return True
        calendar = self._holidays
        return calendar is not None and day in calendar

    def is_business_day(self, day: date) -> bool:
        return bool(self.days & (1 << day.weekday())) and not self.is_closed(day)

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        if not self.is_business_day(local.date()):
            return False
        minute = local.hour * 60 + local.minute
        return self.start_minute <= minute < self.end_minute

    def _day_window(self, day: date) -> tuple[datetime, datetime] | None:
        if self.end_minute <= self.start_minute or not self.is_business_day(day):
            return None
        # Built from local wall-clock times so that a DST change day gets its real length.
        opens = datetime.combine(day, time(self.start_minute // 60, self.start_minute % 60), self.zone)
        if self.end_minute >= 24 * 60:   # open until midnight: the next day's 00:00
            closes = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        else:
            closes = datetime.combine(day, time(self.end_minute // 60, self.end_minute % 60), self.zone)
        return opens.astimezone(timezone.utc), closes.astimezone(timezone.utc)

    def seconds_within(self, start: datetime, end: datetime) -> int:
        """How many seconds of [start, end) fall inside business hours."""
        if end <= start:
            return 0
        zone = self.zone
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        total = 0.0
        while day <= last:
            window = self._day_window(day)
            if window is not None:
                overlap = (min(end, window[1]) - max(start, window[0])).total_seconds()
                if overlap > 0:
                    total += overlap
            day += timedelta(days=1)
        return int(round(total))

    @property
    def day_seconds(self) -> int:
        """The length of one business day on the clock (09:00–17:30 is 8.5 hours)."""
        return max(0, self.end_minute - min(self.start_minute, self.end_minute)) * 60

    def deadline_after(self, start: datetime, seconds: int) -> datetime:
        """The moment at which ``seconds`` of business time have passed since ``start`` (in UTC).

        Time outside business hours does not count, so four business hours from Friday 16:00 (closing at
        17:30) end on Monday at 11:30. Each day's window is built from local wall-clock times, so the clocks
        changing in between moves the answer by the right amount. A budget that ends exactly at closing
        time ends then, not at the next opening."""
        if seconds <= 0:
            return start.astimezone(timezone.utc)
        if not self.days & 0b1111111 or self.end_minute <= self.start_minute:
            # No business hours at all: counting them would never end, so plain elapsed time it is.
            return (start + timedelta(seconds=seconds)).astimezone(timezone.utc)
        start = start.astimezone(timezone.utc)
        remaining = float(seconds)
        day = start.astimezone(self.zone).date()
        while True:
            window = self._day_window(day)
            if window is not None and window[1] > start:
                begins = max(start, window[0])
                available = (window[1] - begins).total_seconds()
                if remaining <= available:
                    return begins + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
