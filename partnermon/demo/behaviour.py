"""How the demo's touchpoints behave: their response times (log-normal around a typical time, the claims
portal's rising month by month), their outages and the odd failed check, and how a number of checks is
shared out over the fixed latency histogram. Pure functions of a seeded ``random.Random``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from partnermon.demo import catalogue
from partnermon.demo.cast import DemoTouchpoint
from partnermon.demo.timeline import SLOT, Calendar, check_at_or_after
from partnermon.models.monitoring import HISTOGRAM_SIZE, LATENCY_EDGES_MS

LOG_EDGES = [math.log(edge) for edge in LATENCY_EDGES_MS]
BUCKETS = range(HISTOGRAM_SIZE)
ERRORS = ("HTTP 503 Service Unavailable", "HTTP 502 Bad Gateway", "Timed out after 10 s waiting for a response",
          "Connection refused", "HTTP 500 Internal Server Error")


@dataclass(frozen=True)
class Outage:
    start: datetime       # the first failing check (a check time)
    checks: int           # down checks in a row
    error: str

    @property
    def end(self) -> datetime:
        """The first good check: where the incident ends."""
        return self.start + SLOT * self.checks


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are small (a few outages a month at most).
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# --- how each touchpoint behaves -------------------------------------------------------------------------

def latency(touchpoint: DemoTouchpoint, age: float) -> tuple[float, float]:
    """(median ms, log-normal sigma) of the touchpoint's response times ``age`` days ago."""
    base = touchpoint.spec.median_ms
    if touchpoint.spec.story != catalogue.CLAIMS_DECLINE:
        return base, 0.3 if touchpoint.spec.kind == "tls" else 0.35
    if age > 60:
        # Month by month slower: p95 about 800 ms a year ago, about 2.7 s two months ago ...
        progress = (min(age, 330) - 60) / 270
        return 1500 * (base / 1500) ** progress, 0.45 - 0.1 * progress
    # ... and well over 3 s in the last two months.
    return 1900 + 500 * (60 - age) / 60, 0.45


def outages_per_month(touchpoint: DemoTouchpoint, age: float) -> float:
    if touchpoint.spec.story == catalogue.CLAIMS_DECLINE:
        return 0.5 + 3.5 * max(0.0, 1 - age / 330) ** 2
    return 0.15


def blips_per_day(touchpoint: DemoTouchpoint, age: float) -> float:
    """Single failed checks that clear at the next one (too short for an incident)."""
    if touchpoint.spec.story == catalogue.CLAIMS_DECLINE:
        return 0.2 + 4.0 * max(0.0, 1 - age / 330) ** 2
    return 0.15


def cumulative(median: float, sigma: float) -> list[float]:
    """The histogram's buckets as cumulative probabilities (the last is 1)."""
    mu, scale = math.log(median), sigma * math.sqrt(2)
    return [0.5 * (1 + math.erf((edge - mu) / scale)) for edge in LOG_EDGES] + [1.0]


def spread(count: int, cum: list[float], rng: random.Random) -> list[int]:
    """``count`` checks put into buckets in proportion, rounded at random so the sum is exact."""
    histogram = [0] * HISTOGRAM_SIZE
    if count <= 0:
        return histogram
    previous, total = 0.0, 0
    for index, level in enumerate(cum):
        share = count * (level - previous)
        whole = int(share)
        histogram[index] = whole + (1 if rng.random() < share - whole else 0)
        total += histogram[index]
        previous = level
    modal = max(BUCKETS, key=histogram.__getitem__)
    histogram[modal] += count - total
    while histogram[modal] < 0:   # rounding took more than the modal bucket had: take the rest elsewhere
        other = max((i for i in BUCKETS if i != modal), key=histogram.__getitem__)
        histogram[other] += histogram[modal]
        histogram[modal] = 0
    return histogram


def plan_outages(touchpoint: DemoTouchpoint, calendar: Calendar, rng: random.Random) -> list[Outage]:
    """The touchpoint's outages over the history: its story's, then ordinary ones where they do not clash."""
    offset, story = touchpoint.offset, touchpoint.spec.story
    planned: list[Outage] = []
    if story == catalogue.NIGHT_OUTAGE:
        # A Tuesday night, from 23:35 to 09:20 the next morning: ten hours, twenty minutes of them in hours.
        day = calendar.night_outage_day
        start = check_at_or_after(calendar.local(day, 23, 35), offset)
        end = check_at_or_after(calendar.local(day + timedelta(days=1), 9, 20), offset)
        planned.append(Outage(start, int((end - start) / SLOT), "Connection refused"))
    if story == catalogue.DAY_OUTAGE:
        # A Thursday at 11:00, forty-five minutes: every minute of it in business hours.
        day = calendar.day_outage_day
        planned.append(Outage(check_at_or_after(calendar.local(day, 11, 0), offset), 9, "HTTP 503 Service Unavailable"))
    planned = [o for o in planned if o.start >= calendar.start and o.end < calendar.now]
    span = (calendar.now - calendar.start).total_seconds()
    month = 30 * 86400
    block_start = 0.0
    while block_start < span:
        block = min(month, span - block_start)
        age = (span - block_start - block / 2) / 86400
        for _ in range(poisson(rng, outages_per_month(touchpoint, age) * block / month)):
            at = check_at_or_after(calendar.start + timedelta(seconds=block_start + rng.random() * block), offset)
            typical = 5 if story == catalogue.CLAIMS_DECLINE else 3
            checks = min(36, 2 + int(rng.lognormvariate(math.log(typical), 0.7)))
            outage = Outage(at, checks, "The page does not contain “Start a claim”"
                            if story == catalogue.CLAIMS_DECLINE and rng.random() < 0.3 else rng.choice(ERRORS))
            # Two slots apart at least, or the two outages would have been one incident.
            clash = any(outage.start < other.end + 2 * SLOT and other.start < outage.end + 2 * SLOT for other in planned)
            if not clash and outage.end + SLOT < calendar.now:
                planned.append(outage)
        block_start += block
    return sorted(planned, key=lambda o: o.start)


# --- writing ------------------------------------------------------------------------------------------------
