"""When things happen in the demo's history: its days and hours in the practice's time zone, each probe's
five-minute check times, and the dates of the stories (the night outage, the outage at 11:00, the day the
contact page lost its phone number). Pure date arithmetic; knows nothing of the database.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from partnermon.demo.cast import PROBE_INTERVAL, Cast
from partnermon.monitoring.rollups import floor_hour, local_day_bounds
from partnermon.practices.business_hours import BusinessHours

SLOT = timedelta(seconds=PROBE_INTERVAL)
# How long ago the fund manager's contact page lost its phone number.
CONTACT_LOST_DAYS = 19


class Calendar:
    """The history's days and hours in the practice's time zone."""

    def __init__(self, cast: Cast, now: datetime, first_day: date, hourly_days: int):
        self.hours = BusinessHours.of(cast.practice)
        self.zone = self.hours.zone
        self.now = now
        self.today = now.astimezone(self.zone).date()
        self.first_day = first_day
        self.start = local_day_bounds(first_day, self.zone)[0]
        # At least today: only the hourly rollups count checks up to now rather than whole days.
        window_days = max(1, min(hourly_days, (self.today - first_day).days + 1))
        # The hourly rollups start at a local midnight, so each of their days is whole and can be their sum.
        self.window_first_day = self.today - timedelta(days=window_days - 1)
        self.window_start = floor_hour(local_day_bounds(self.window_first_day, self.zone)[0])
        self._bh_cache: dict[datetime, tuple[int, int]] = {}
        self._day_cache: dict[date, tuple[datetime, datetime, int, int]] = {}
        self._date_cache: dict[datetime, date] = {}

    def days_before_window(self) -> Iterator[date]:
        day = self.first_day
        while day < self.window_first_day:
            yield day
            day += timedelta(days=1)

    def window_hours(self) -> Iterator[datetime]:
        hour, last = self.window_start, floor_hour(self.now)
        while hour <= last:
            yield hour
            hour += timedelta(hours=1)

    def day_checks(self, day: date) -> tuple[datetime, datetime, int, int]:
        """(start, end, checks, checks in business hours) of a local day: every probe checks every five
        minutes, and a day and its business hours last whole multiples of that, whatever the probe's offset.
        The same for every touchpoint, so worked out once a day."""
        if day not in self._day_cache:
            start, end = local_day_bounds(day, self.zone)
            self._day_cache[day] = (start, end, int((end - start).total_seconds()) // PROBE_INTERVAL,
                                    self.hours.seconds_within(start, end) // PROBE_INTERVAL)
        return self._day_cache[day]

    def local_date(self, hour: datetime) -> date:
        if hour not in self._date_cache:
            self._date_cache[hour] = hour.astimezone(self.zone).date()
        return self._date_cache[hour]

    def business_part(self, hour: datetime) -> tuple[int, int]:
        """The seconds [a, b) of this hour inside business hours (business hours open or close once an hour
        at most)."""
        if hour not in self._bh_cache:
            inside = self.hours.seconds_within(hour, hour + timedelta(hours=1))
            if inside in (0, 3600):
                self._bh_cache[hour] = (0, inside)
            elif self.hours.contains(hour):
                self._bh_cache[hour] = (0, inside)
            else:
                self._bh_cache[hour] = (3600 - inside, 3600)
        return self._bh_cache[hour]

    @property
    def night_outage_day(self) -> date:
        """The Tuesday (at least 12 days back) whose night the platform's long outage began."""
        day = self.today - timedelta(days=12)
        return day - timedelta(days=(day.weekday() - 1) % 7)

    @property
    def day_outage_day(self) -> date:
        """The Thursday (at least 6 days back) of the lender's outage at 11:00."""
        day = self.today - timedelta(days=6)
        return day - timedelta(days=(day.weekday() - 3) % 7)

    def age_days(self, at: datetime) -> float:
        return (self.now - at).total_seconds() / 86400

    def local(self, day: date, hh: int, mm: int) -> datetime:
        return datetime.combine(day, time(hh, mm), self.zone).astimezone(timezone.utc)


def check_at_or_after(at: datetime, offset: int) -> datetime:
    """The first check of a probe (run at ``offset`` seconds past each five-minute mark) at or after ``at``."""
    seconds = at.timestamp() - offset
    return datetime.fromtimestamp(math.ceil(seconds / PROBE_INTERVAL) * PROBE_INTERVAL + offset, timezone.utc)
