"""``partnermon demo``: a demo practice with months of invented history to explore (DESIGN.md §9).

``generate`` makes a practice marked ``is_demo`` with its people, partners, touchpoints and paused probes
(``cast``), the probe history as rollups and incidents, with the last day's checks as raw results too
(``history``), client feedback (``feedback``) and follow-ups (``followups``), all relative to the ``now``
passed in and the same for the same seed. The data tells five stories a person exploring it should find:

1. Northgate Mutual's claims portal getting slowly worse: p95 from about 0.8 s a year ago to well over 3 s
   in the last two months, more outages, and its claims feedback souring in the last month (dissatisfied
   clients from about 10 % to nearly 40 %, some saying the practice looks worse);
2. Kestrel Park Investments' contact page losing its phone number a few weeks ago (a content probe whose
   human-contact run is past its threshold), and clients saying they could not find a number to call;
3. Wrapline Platform's long outage one Tuesday night (mostly outside business hours) against Copperfield
   Building Society's shorter one at 11:00 on a Thursday (all inside them);
4. everyone else mostly fine with ordinary noise, and Brightwater Home Loans with too little feedback to score;
5. closing the loop (``loop``): Northgate Mutual costing the practice two clients this year, and calls and
   meetings winning back more clients than emails.
6. Northgate's own promise — "Our online claims portal loads in under 2 seconds" — clearly broken this month,
   and the practice's own booking page and website in "Our own moments", never ranked among the partners.

It must make no outbound request and send nothing: probes are saved paused, and nothing is written to the
outbox (alerts and follow-up notices the history would have sent are marked as told). It commits nothing:
the caller does.
"""

from __future__ import annotations

import calendar as calendar_module
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.accounts import audit, sign_ins
from partnermon.accounts.security import hash_password
from partnermon.demo.cast import make_cast
from partnermon.demo.feedback import default_responses, write_feedback
from partnermon.demo.followups import write_follow_ups
from partnermon.demo.history import write_history
from partnermon.demo.promises import write_promises
from partnermon.feedback import themes
from partnermon.demo.timeline import Calendar
from partnermon.followups.timeline import active_owners
from partnermon.models import Practice

DEFAULT_SLUG = "demo"
DEFAULT_SEED = 20261
MAX_MONTHS = 36
ZONE = "Europe/London"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    practice_name: str
    slug: str
    owner_email: str
    owner_password: str
    months: int
    partners: int
    touchpoints: int
    probes: int
    daily_rollups: int
    hourly_rollups: int
    incidents: int
    requests: int
    responses: int
    open_link_responses: int
    follow_ups: int
    unresolved_follow_ups: int
    overdue_follow_ups: int
    probe_results: int = 0          # the last day's checks, consistent with its hourly rollups
    promises: int = 0               # partners' promises (issue 20), one of them broken


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar_module.monthrange(year, month + 1)[1]))


def new_password() -> str:
    # From ``secrets``, not the seed: the same seed must not mean the same way in.
    return secrets.token_urlsafe(12)


def generate(session: Session, now: datetime, *, slug: str = DEFAULT_SLUG, months: int = 12, partners: int = 8,
             touchpoints: int = 30, responses: int | None = None, seed: int = DEFAULT_SEED, hourly_days: int = 30,
             progress: Progress | None = None) -> DemoResult:
    """Create the demo practice ``slug`` with ``months`` of history ending at ``now``; see the module docstring.

    Raises ``ValidationError`` (from the services) when the slug is taken or invalid."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be 1–{MAX_MONTHS}, not {months}")
    rng = random.Random(seed)
    tell = progress or (lambda _message: None)
    first_day = months_before(now.astimezone(ZoneInfo(ZONE)).date(), months)
    password = new_password()
    # The practice was set up the morning before its history starts, so nothing predates it.
    set_up = datetime.combine(first_day - timedelta(days=1), time(10), ZoneInfo(ZONE)).astimezone(timezone.utc)
    tell("practice, people, partners and touchpoints …")
    cast = make_cast(session, set_up, slug=slug, owner_password=password, partner_count=partners,
                     touchpoint_count=touchpoints, rng=rng)
    calendar = Calendar(cast, now, first_day, hourly_days)
    history = write_history(session, calendar, cast, rng, tell)
    total = default_responses(months, touchpoints) if responses is None else responses
    tell(f"feedback: {total} responses …")
    feedback, rows = write_feedback(session, calendar, cast, total, rng)
    tell("follow-ups …")
    follow_ups = write_follow_ups(session, calendar, cast, rows, rng)
    promises = write_promises(session, set_up, cast)
    session.flush()
    # Found now rather than at the daily job's first run, so the themes page and the next report show them at once.
    tell("themes in comments …")
    try:
        themes.run_themes(session, now, cast.practice, trigger="demo")
    except themes.TooFewComments:
        pass   # a small demo (--responses) may have too few comments; the page then says how many it needs
    return DemoResult(
        practice_name=cast.practice.name, slug=cast.practice.slug, owner_email=cast.owner.email,
        owner_password=password, months=months, partners=sum(1 for p in cast.partners if not p.partner.is_own_practice), touchpoints=len(cast.touchpoints),
        probes=len(cast.probed), daily_rollups=history.daily, hourly_rollups=history.hourly,
        incidents=history.incidents, requests=feedback.requests, responses=feedback.responses,
        open_link_responses=feedback.open_link, follow_ups=follow_ups.follow_ups,
        unresolved_follow_ups=follow_ups.unresolved, overdue_follow_ups=follow_ups.overdue,
        probe_results=history.results, promises=promises)


def existing(session: Session, slug: str) -> Practice | None:
    return session.scalar(select(Practice).where(Practice.slug == slug.strip().lower()))


def reset_owner_password(session: Session, now: datetime, practice: Practice) -> tuple[str, str] | None:
    """A new password for a demo practice's longest-standing owner (ending their sessions), so running
    ``partnermon demo`` again always prints a way in. None when it has no active owner left."""
    if not practice.is_demo:
        raise ValueError("only a demo practice's owner password is reset by the demo")
    owners = active_owners(session, practice.id)
    if not owners:
        return None
    owner, password = owners[0], new_password()
    owner.password_hash = hash_password(password)
    sign_ins.end_all(session, now, owner.id)
    audit.record(session, now, practice.id, "demo", "user.password_reset", "user", owner.id,
                 f"partnermon demo set a new password for {owner.email}")
    return owner.email, password
