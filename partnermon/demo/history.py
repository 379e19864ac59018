"""The demo's probe history: outages (as resolved incidents), daily rollups for every day of the history
and hourly rollups for its last days, as the rollup job would have written them had the probes run.

Raw probe results are written for the last day only (``RAW_SPAN``), check by check from the same draws as their
hours' rollups (so the touchpoint page's latest checks agree with its counts and with the probe's last check);
a year of five-minute results would be millions of rows, and scores read rollups and incidents only
(DESIGN.md §7). Checks are counted on each probe's real five-minute grid,
in the practice's business hours (``BusinessHours``, so DST is right): the days the hourly rollups cover are
the sums of their hours, exactly as ``rollups.roll_up`` adds them, and every incident's checks are among
the down counts of the hours and days it spans. Older days are drawn per day (a year of them at benchmark
scale would be far too slow check by check). How each touchpoint behaves is ``behaviour``'s; a check is
degraded when it is slower than the probe's threshold (an edge of the histogram), or, on the contact page
that lost its phone number, because the soft human-contact check fails.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session

from partnermon.demo import catalogue
from partnermon.demo.behaviour import BUCKETS, ERRORS, Outage, blips_per_day, cumulative, latency, plan_outages, poisson, spread
from partnermon.demo.bulk import insert_rows
from partnermon.demo.cast import PROBE_INTERVAL, SLOW_AFTER_MS, Cast, DemoTouchpoint
from partnermon.demo.timeline import CONTACT_LOST_DAYS, SLOT, Calendar, check_at_or_after
from partnermon.models import DailyRollup, HourlyRollup, Incident, ProbeResult
from partnermon.models.monitoring import LATENCY_EDGES_MS, latency_columns
from partnermon.monitoring.incidents import close_incident
from partnermon.monitoring.rollups import Counts, floor_hour, local_day_bounds
from probes.base import slower_than
from probes.content import NO_HUMAN_CONTACT
from probes.human_contact import describe as describe_contacts

CHECKS_PER_HOUR = 3600 // PROBE_INTERVAL
BATCH = 5000
# Clients are busiest in business hours, and so are the partners' servers.
BUSINESS_HOURS_SLOWDOWN = 1.12
# Raw results go back this far (from the start of its hour, as the touchpoint page's "last 24 hours" counts):
# about 290 rows a probe.
RAW_SPAN = timedelta(hours=24)

Progress = Callable[[str], None]


@dataclass
class HistoryCounts:
    daily: int = 0
    hourly: int = 0
    incidents: int = 0
    results: int = 0


class _Writer:
    """Buffers rollup rows and inserts them in batches, so a benchmark-sized history never sits in memory."""

    def __init__(self, session: Session, counts: HistoryCounts):
        self.session, self.counts = session, counts
        self.daily: list[dict[str, object]] = []
        self.hourly: list[dict[str, object]] = []
        self.results: list[dict[str, object]] = []

    def add_day(self, row: dict[str, object]) -> None:
        self.daily.append({**row, **latency_columns(row["histogram"])})  # type: ignore[arg-type]
        if len(self.daily) >= BATCH:
            self.flush()

    def add_hour(self, row: dict[str, object]) -> None:
        self.hourly.append(row)
        if len(self.hourly) >= BATCH:
            self.flush()

    def add_results(self, rows: list[dict[str, object]]) -> None:
        self.results += rows
        if len(self.results) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.daily:
            insert_rows(self.session, DailyRollup, self.daily)
            self.counts.daily += len(self.daily)
            self.daily = []
        if self.hourly:
            insert_rows(self.session, HourlyRollup, self.hourly)
            self.counts.hourly += len(self.hourly)
            self.hourly = []
        if self.results:
            insert_rows(self.session, ProbeResult, self.results)
            self.counts.results += len(self.results)
            self.results = []


class _Touchpoint:
    """One touchpoint's history being written: its outages by hour and day, and its behaviour by day."""

    def __init__(self, touchpoint: DemoTouchpoint, calendar: Calendar, outages: list[Outage], rng: random.Random):
        self.tp, self.calendar, self.rng = touchpoint, calendar, rng
        assert touchpoint.probe is not None
        self.slow_from = LATENCY_EDGES_MS.index(SLOW_AFTER_MS[touchpoint.spec.kind]) + 1
        self.contact_lost_at: datetime | None = None
        if touchpoint.spec.story == catalogue.CONTACT_LOST:
            self.contact_lost_at = check_at_or_after(calendar.now - timedelta(days=CONTACT_LOST_DAYS, hours=3),
                                                     touchpoint.offset)
        self.down_by_hour: dict[datetime, dict[int, str]] = {}     # hour -> slot -> the outage's error
        self.down_by_day: dict[date, list[int]] = {}
        for outage in outages:
            for index in range(outage.checks):
                at = outage.start + SLOT * index
                in_bh = calendar.hours.contains(at)
                hour = floor_hour(at)
                slot = int((at - hour).total_seconds() - touchpoint.offset) // PROBE_INTERVAL
                self.down_by_hour.setdefault(hour, {})[slot] = outage.error
                tally = self.down_by_day.setdefault(at.astimezone(calendar.zone).date(), [0, 0])
                tally[0] += 1
                tally[1] += in_bh
        self._days: dict[date, tuple[list[float], list[float], float]] = {}
        # The raw results' own details (times within a bucket, a blip's error) come from a generator of their own:
        # drawing them from ``rng`` would change every later draw, and so the history the rest of the demo tells.
        self.detail_rng = random.Random(f"{touchpoint.spec.name}:{touchpoint.offset}:{touchpoint.id}")

    def day_behaviour(self, day: date) -> tuple[list[float], list[float], float]:
        """(cumulative bucket probabilities in and out of business hours, blips per day) for one day."""
        if day not in self._days:
            age = (self.calendar.today - day).days + 0.5
            median, sigma = latency(self.tp, age)
            median *= math.exp(self.rng.gauss(0, 0.06))     # some days are slower than others
            self._days[day] = (cumulative(median * BUSINESS_HOURS_SLOWDOWN, sigma), cumulative(median, sigma),
                               blips_per_day(self.tp, age))
        return self._days[day]

    def base_row(self) -> dict[str, object]:
        return {"practice_id": self.tp.touchpoint.practice_id, "touchpoint_id": self.tp.id, "maintenance": 0}

    def day(self, day: date) -> dict[str, object]:
        """A whole local day before the hourly window, drawn as one."""
        start, end, checks, bh_checks = self.calendar.day_checks(day)
        cum_bh, cum_off, blip_rate = self.day_behaviour(day)
        down, bh_down = self.down_by_day.get(day, (0, 0))
        blips = min(poisson(self.rng, blip_rate), checks - down)
        bh_blips = min(sum(self.rng.random() * checks < bh_checks for _ in range(blips)), bh_checks - bh_down)
        down, bh_down = down + blips, bh_down + bh_blips
        c = Counts(down=down, bh_down=bh_down)
        c.bh_histogram = spread(bh_checks - bh_down, cum_bh, self.rng)
        off = spread(checks - bh_checks - (down - bh_down), cum_off, self.rng)
        c.histogram = [a + b for a, b in zip(c.bh_histogram, off)]
        c.degraded, c.bh_degraded = sum(c.histogram[self.slow_from:]), sum(c.bh_histogram[self.slow_from:])
        lost = self.contact_lost_at
        if lost is not None and lost < end:
            # The soft human-contact check fails on every readable page from then on: degraded, not up.
            share = 1.0 if lost <= start else (end - lost) / (end - start)
            answered, bh_answered = checks - down, bh_checks - bh_down
            c.degraded += round((answered - c.degraded) * share)
            c.bh_degraded += round((bh_answered - c.bh_degraded) * share)
        c.up, c.bh_up = checks - down - c.degraded, bh_checks - bh_down - c.bh_degraded
        return {**self.base_row(), "day": day, **c.as_row(), **latency_columns(c.histogram)}

    def hour(self, hour: datetime, raw: list[dict[str, object]] | None = None) -> Counts | None:
        """One UTC hour of the hourly window, check by check (only the checks before now); with ``raw``, each
        check is also appended to it as a probe result row."""
        offset = self.tp.offset
        first, last = self.calendar.business_part(hour)
        cum_bh, cum_off, blip_rate = self.day_behaviour(self.calendar.local_date(hour))
        down_slots = self.down_by_hour.get(hour, {})
        buckets = self.rng.choices(BUCKETS, cum_weights=cum_bh if last > first else cum_off, k=CHECKS_PER_HOUR)
        blip_chance = blip_rate / (24 * CHECKS_PER_HOUR)
        # Seconds into the hour of now and of the contact page's loss: plain numbers, not a datetime a check.
        until = min(3600.0, (self.calendar.now - hour).total_seconds())
        lost_from = 3600.0 if self.contact_lost_at is None else (self.contact_lost_at - hour).total_seconds()
        c = Counts()
        checked = False
        for slot in range(CHECKS_PER_HOUR):
            at_second = offset + slot * PROBE_INTERVAL
            if at_second >= until:
                break
            checked = True
            in_bh = first <= at_second < last
            isolated = not down_slots and self.rng.random() < blip_chance
            if slot in down_slots or isolated:
                c.down += 1
                c.bh_down += in_bh
                if raw is not None:
                    raw.append(self.result(hour, at_second, in_bh, "down", None, down_slots.get(slot)))
                continue
            bucket = buckets[slot]
            outcome = "degraded" if bucket >= self.slow_from or at_second >= lost_from else "up"
            if raw is not None:
                raw.append(self.result(hour, at_second, in_bh, outcome, bucket, None,
                                       contact_lost=at_second >= lost_from))
            setattr(c, outcome, getattr(c, outcome) + 1)
            c.histogram[bucket] += 1
            if in_bh:
                setattr(c, f"bh_{outcome}", getattr(c, f"bh_{outcome}") + 1)
                c.bh_histogram[bucket] += 1
        return c if checked else None


    def result(self, hour: datetime, at_second: float, in_bh: bool, outcome: str, bucket: int | None,
               error: str | None, *, contact_lost: bool = False) -> dict[str, object]:
        """One check as the worker would have stored it: a time inside its histogram bucket, the failure or the
        soft check it tripped."""
        at = hour + timedelta(seconds=at_second)
        rng = self.detail_rng
        row: dict[str, object] = {
            "practice_id": self.tp.touchpoint.practice_id, "touchpoint_id": self.tp.id, "due_at": at, "started_at": at,
            "outcome": outcome, "status_code": None, "dns_ms": None, "connect_ms": None, "tls_ms": None,
            "first_byte_ms": None, "total_ms": None, "latency_bucket": bucket, "bytes_read": 0, "error": None,
            "failed_checks": [], "details": {}, "in_business_hours": in_bh, "in_maintenance": False}
        if outcome == "down":
            error = error or rng.choice(ERRORS)
            code = int(error[5:8]) if error.startswith("HTTP ") else None
            return {**row, "status_code": code, "error": error, "failed_checks": [error]}
        assert bucket is not None
        lower = LATENCY_EDGES_MS[bucket - 1] if bucket else 5
        upper = LATENCY_EDGES_MS[bucket] if bucket < len(LATENCY_EDGES_MS) else 2 * LATENCY_EDGES_MS[-1]
        total = round(rng.uniform(lower, upper) + 0.5)
        total = min(max(total, lower + 1), upper)           # inside (lower, upper], as latency_bucket reads it
        first_byte = round(total * rng.uniform(0.55, 0.8))
        row.update(status_code=200, total_ms=float(total), first_byte_ms=float(first_byte),
                   dns_ms=float(rng.randint(2, 25)), connect_ms=float(rng.randint(8, 40)),
                   bytes_read=rng.randint(9000, 90000))
        problems = []
        if bucket >= self.slow_from:
            problems.append(slower_than(SLOW_AFTER_MS[self.tp.spec.kind], total))
        if self.tp.spec.kind == "content":
            found = (describe_contacts([]) if contact_lost
                     else "phone 020 7946 0123, contact page “Contact us”")
            row["details"] = {"human_contact_summary": found}
            if contact_lost:
                problems.append(NO_HUMAN_CONTACT.format(found=found))
        if problems:
            row.update(failed_checks=problems, error=problems[0][:300])
        return row


def incident_rows(touchpoint: DemoTouchpoint, outages: list[Outage], calendar: Calendar) -> list[dict[str, object]]:
    """Each outage as the resolved incident monitoring would have made of it, told about at the time (so no
    alert job ever sends anything for it)."""
    probe = touchpoint.probe
    assert probe is not None
    rows = []
    for outage in outages:
        incident = Incident(started_at=outage.start)
        close_incident(incident, outage.end, calendar.hours)
        rows.append({
            "practice_id": touchpoint.touchpoint.practice_id, "touchpoint_id": touchpoint.id, "kind": "down",
            "started_at": outage.start, "resolved_at": incident.resolved_at, "first_error": outage.error,
            "last_error": outage.error, "in_maintenance": False, "seconds_total": incident.seconds_total,
            "seconds_in_business_hours": incident.seconds_in_business_hours, "notice_due_at": None,
            "opened_notice_at": outage.start + SLOT * (probe.failure_threshold - 1),
            "resolved_notice_at": outage.end + SLOT * (probe.success_threshold - 1), "reminder_number": 0})
    return rows


def _finish_probe(touchpoint: DemoTouchpoint, calendar: Calendar, history: _Touchpoint, rng: random.Random) -> None:
    """The paused probe remembers what its last checks found, as if it had been paused just now."""
    probe = touchpoint.probe
    assert probe is not None
    last = check_at_or_after(calendar.now - SLOT, touchpoint.offset)
    probe.last_checked_at = last if last < calendar.now else last - SLOT
    slow = touchpoint.spec.story == catalogue.CLAIMS_DECLINE
    probe.state = "degraded" if slow or history.contact_lost_at is not None else "up"
    if touchpoint.spec.kind == "tls":
        probe.certificate_expires_at = calendar.now + timedelta(days=rng.randint(40, 300))
    if history.contact_lost_at is not None:
        probe.contact_missing_since = history.contact_lost_at
        probe.contact_missing_run = int((probe.last_checked_at - history.contact_lost_at) / SLOT) + 1
        # Told at the time (the alert goes once per loss): resuming the probe will not send it now.
        probe.contact_lost_told_for = history.contact_lost_at


def write_history(session: Session, calendar: Calendar, cast: Cast, rng: random.Random,
                  progress: Progress | None = None) -> HistoryCounts:
    counts = HistoryCounts()
    writer = _Writer(session, counts)
    probed = cast.probed
    incidents: list[dict[str, object]] = []
    step = max(1, math.ceil(len(probed) / 10))
    # As rollups._roll_up_days adds them up: a day is the hours that start within it.
    day_of_hour: dict[datetime, date] = {}
    day = calendar.window_first_day
    while day <= calendar.today:
        start, end = local_day_bounds(day, calendar.zone)
        hour = floor_hour(start) if floor_hour(start) == start else floor_hour(start) + timedelta(hours=1)
        while hour < end:
            day_of_hour[hour] = day
            hour += timedelta(hours=1)
        day += timedelta(days=1)
    for number, touchpoint in enumerate(probed, start=1):
        outages = plan_outages(touchpoint, calendar, rng)
        history = _Touchpoint(touchpoint, calendar, outages, rng)
        for day in calendar.days_before_window():
            writer.add_day(history.day(day))
        sums: dict[date, Counts] = {}
        raw_from = floor_hour(calendar.now - RAW_SPAN)
        for hour in calendar.window_hours():
            raw: list[dict[str, object]] | None = [] if hour >= raw_from else None
            hour_counts = history.hour(hour, raw)
            if raw:
                writer.add_results(raw)
            if hour_counts is None:
                continue
            writer.add_hour({**history.base_row(), "hour": hour, **hour_counts.as_row()})
            if hour in day_of_hour:
                sums.setdefault(day_of_hour[hour], Counts()).add(hour_counts)
        for day, total in sums.items():
            if total.checks:
                writer.add_day({**history.base_row(), "day": day, **total.as_row(), **latency_columns(total.histogram)})
        incidents += incident_rows(touchpoint, outages, calendar)
        _finish_probe(touchpoint, calendar, history, rng)
        if progress is not None and (number % step == 0 or number == len(probed)):
            progress(f"rollups: {number}/{len(probed)} touchpoints")
    writer.flush()
    insert_rows(session, Incident, incidents)
    counts.incidents = len(incidents)
    return counts
