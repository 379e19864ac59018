"""The periods scores are computed over: a calendar month or the rolling 30 days (and, for the follow-up
measures, a calendar year: ``year_of``), all in the practice's own time zone, since "November" for a practice in Sydney starts eleven hours before London's.

A period knows its local days (daily rollups are kept per local day), its bounds as UTC instants (responses
and incidents are stamped in UTC) and the period before it, which trends and early warnings compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from partnermon import validators
from partnermon.errors import ValidationError

ROLLING_DAYS = 30
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


@dataclass(frozen=True)
class Period:
    kind: str            # "month", "rolling" or "year"
    first_day: date      # local, inclusive
    end_day: date        # local, exclusive
    zone_name: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), self.zone).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(0), self.zone).astimezone(timezone.utc)

    @property
    def key(self) -> str:
        """What the period filter sends: ``2026-11`` for a month, ``30d`` for the rolling 30 days."""
        if self.kind == "year":
            return f"{self.first_day:%Y}"
        return f"{self.first_day:%Y-%m}" if self.kind == "month" else "30d"

    @property
    def label(self) -> str:
        if self.kind == "year":
            return self._year_label(MONTH_NAMES)
        if self.kind == "month":
            return f"{MONTH_NAMES[self.first_day.month - 1]} {self.first_day.year}"
        last = self.end_day - timedelta(days=1)
        return f"the 30 days to {last.day} {MONTH_NAMES[last.month - 1][:3]} {last.year}"

    def _year_label(self, names: tuple[str, ...]) -> str:
        # A whole year is "2026"; the year to the end of a month (a monthly report's) "January to November 2026".
        last = self.end_day - timedelta(days=1)
        if (last.month, last.day) == (12, 31):
            return str(self.first_day.year)
        if last.month == 1:
            return f"{names[0]} {self.first_day.year}"
        return f"{names[0]} to {names[last.month - 1]} {self.first_day.year}"

    @property
    def title(self) -> str:
        """The label to start a sentence with."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def short_label(self) -> str:
        if self.kind == "year":
            return self._year_label(tuple(name[:3] for name in MONTH_NAMES))
        if self.kind == "month":
            return f"{MONTH_NAMES[self.first_day.month - 1][:3]} {self.first_day.year}"
        return "last 30 days"

    @property
    def before_label(self) -> str:
        """What the period before this one is called in "since …": "Oct 2026", "the 30 days before"."""
        return self.previous().short_label if self.kind in ("month", "year") else "the 30 days before"

    @property
    def month_label(self) -> str:
        """A month's axis label on a chart: "Jan" (the chart's title carries the years)."""
        return MONTH_NAMES[self.first_day.month - 1][:3]

    def previous(self) -> "Period":
        if self.kind == "year":
            return year_of(self.first_day.replace(year=self.first_day.year - 1), self.zone_name)
        if self.kind == "month":
            return month_of(shift_month(self.first_day, -1), self.zone_name)
        return Period("rolling", self.first_day - timedelta(days=ROLLING_DAYS), self.first_day, self.zone_name)

    def contains_day(self, day: date) -> bool:
        return self.first_day <= day < self.end_day


def shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date, zone_name: str) -> Period:
    first = day.replace(day=1)
    return Period("month", first, shift_month(first, 1), zone_name)


def year_of(day: date, zone_name: str) -> Period:
    """The calendar year ``day`` falls in, local midnight 1 January to the next."""
    return Period("year", date(day.year, 1, 1), date(day.year + 1, 1, 1), zone_name)


def year_to(period: Period) -> Period:
    """From 1 January of ``period``'s year to the end of ``period`` (a monthly report's "year to date")."""
    return Period("year", date(period.first_day.year, 1, 1), period.end_day, period.zone_name)


def this_year(now: datetime, zone_name: str) -> Period:
    """The calendar year ``now`` falls in, in the practice's time zone ("this year")."""
    return year_of(now.astimezone(ZoneInfo(zone_name)).date(), zone_name)


def rolling(now: datetime, zone_name: str) -> Period:
    """The 30 local days ending with today (today included, so far)."""
    today = now.astimezone(ZoneInfo(zone_name)).date()
    return Period("rolling", today - timedelta(days=ROLLING_DAYS - 1), today + timedelta(days=1), zone_name)


def last_months(now: datetime, zone_name: str, count: int = 12) -> list[Period]:
    """The ``count`` calendar months up to and including the current one, oldest first."""
    this_month = now.astimezone(ZoneInfo(zone_name)).date().replace(day=1)
    return [month_of(shift_month(this_month, -offset), zone_name) for offset in range(count - 1, -1, -1)]


def parse(text: str | None, now: datetime, zone_name: str, *, field: str = "period") -> Period:
    """A period from what a person typed or a filter sent: empty or ``30d`` → the rolling 30 days, ``YYYY-MM``
    → that month. A malformed or future month raises ValidationError naming ``field``."""
    raw = (text or "").strip()
    if raw in ("", "30d"):
        return rolling(now, zone_name)
    period = month_of(validators.month(field, raw), zone_name)
    if period.start > now:
        raise ValidationError({field: f"{period.label} has not started yet: choose this month or an earlier one."})
    return period
