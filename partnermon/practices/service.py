"""Practices: creating one (with its default moments of truth) and changing its settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import DEFAULT_MOMENTS, MomentOfTruth, Practice, User
from partnermon.practices import countries

ALLOWED_LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024


def any_practice_exists(session: Session, *, counting_demos: bool = True) -> bool:
    """Whether the instance is set up. ``counting_demos=False``: whether anyone has set up a practice of
    their own (a database holding only ``partnermon demo``'s practice still offers the set-up page)."""
    condition = Practice.id.is_not(None) if counting_demos else Practice.is_demo.is_(False)
    return bool(session.scalar(select(exists().where(condition))))


def by_slug(session: Session, slug: str) -> Practice:
    practice = session.scalar(select(Practice).where(Practice.slug == slug.strip().lower()))
    if practice is None:
        raise NotFound(f"No practice has the slug “{slug}”.")
    return practice


def create_practice(session: Session, now: datetime, *, slug: str, name: str,
                    timezone: str = "Europe/London", country: str = "", actor: User | str = "cli") -> Practice:
    """``country`` empty: the time zone's country (Pacific/Auckland: NZ)."""
    form = v.Form()
    slug = form.check(v.slug, "slug", slug)
    name = form.check(v.text, "name", name, label="Practice name")
    timezone = form.check(v.timezone, "timezone", timezone)
    country = form.check(countries.clean_country, country, timezone or "")
    if slug and session.scalar(select(func.count()).where(Practice.slug == slug)):
        form.add("slug", f"The slug “{slug}” is taken; choose another.")
    form.raise_if_errors()
    practice = Practice(slug=slug, name=name, timezone=timezone, country=country, created_at=now)
    for position, moment in enumerate(DEFAULT_MOMENTS):
        practice.moments.append(MomentOfTruth(position=position, retired=False, **moment))
    session.add(practice)
    session.flush()
    audit.record(session, now, practice.id, actor, "practice.created", "practice", practice.id,
                 f"Created practice {name} ({slug})")
    return practice


def update_settings(session: Session, now: datetime, practice: Practice, actor: User, *,
                    name: str, timezone: str, business_start: str, business_end: str,
                    business_days: list[str], brand_colour: str, country: str | None = None) -> Practice:
    """``country`` None leaves it as it is; empty sets the time zone's."""
    form = v.Form()
    name = form.check(v.text, "name", name, label="Practice name")
    timezone = form.check(v.timezone, "timezone", timezone)
    if country is not None:
        country = form.check(countries.clean_country, country, timezone or "")
    start = form.check(v.clock_time, "business_start", business_start, "Opening time")
    end = form.check(v.clock_time, "business_end", business_end, "Closing time")
    if start is not None and end is not None and end <= start:
        form.add("business_end", "Closing time must be after opening time.")
    mask = 0
    for day in business_days:
        if (number := v.ascii_number(day)) is not None and 0 <= number <= 6:
            mask |= 1 << number
        else:
            form.add("business_days", "Choose weekdays from the list.")
    if not mask:
        form.add("business_days", "Choose at least one business day.")
    brand_colour = form.check(v.colour, "brand_colour", brand_colour)
    form.raise_if_errors()
    practice.name = name
    practice.timezone = timezone
    if country is not None and country != practice.country:
        practice.country = country
        # A region belongs to one country: another country's holidays start from its national ones.
        practice.region = ""
    practice.business_start_minute = start
    practice.business_end_minute = end
    practice.business_days = mask
    practice.brand_colour = brand_colour
    audit.record(session, now, practice.id, actor, "practice.updated", "practice", practice.id,
                 f"Changed settings: {practice.describe_business_hours()}, country {practice.country or 'none'}, "
                 f"colour {brand_colour}")
    return practice


def update_feedback_settings(session: Session, now: datetime, practice: Practice, actor: User, *,
                             throttle_days: str, link_days: str, open_link: bool) -> Practice:
    """How often one client may be asked, how long a link works, and whether the open link is on."""
    form = v.Form()
    throttle = form.check(v.whole_number, "feedback_throttle_days", throttle_days, minimum=0, maximum=365,
                          label="Days between requests to one client")
    lifetime = form.check(v.whole_number, "feedback_link_days", link_days, minimum=1, maximum=90,
                          label="Days a feedback link works")
    form.raise_if_errors()
    practice.feedback_throttle_days = throttle
    practice.feedback_link_days = lifetime
    practice.open_feedback_link = open_link
    audit.record(session, now, practice.id, actor, "practice.feedback_settings", "practice", practice.id,
                 f"Feedback: ask a client at most every {throttle} days, links work {lifetime} days, "
                 f"open link {'on' if open_link else 'off'}")
    return practice


def set_logo(session: Session, now: datetime, practice: Practice, actor: User, data: bytes | None) -> None:
    """Store a PNG or JPEG logo; ``None`` removes it. SVG is refused: it can carry script."""
    if data is None:
        practice.logo, practice.logo_mime = None, None
        audit.record(session, now, practice.id, actor, "practice.logo_removed", "practice", practice.id, "Removed the logo")
        return
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError({"logo": f"The logo must be at most {MAX_LOGO_BYTES // 1024} KB."})
    mime = next((m for magic, m in ALLOWED_LOGO_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        raise ValidationError({"logo": "Upload a PNG or JPEG image."})
    practice.logo, practice.logo_mime = data, mime
    audit.record(session, now, practice.id, actor, "practice.logo_changed", "practice", practice.id, "Uploaded a new logo")
