"""Practices (the tenant) and their moments of truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime

if TYPE_CHECKING:
    from partnermon.models.accounts import User
    from partnermon.models.partners import Partner

STAGES = (
    "awareness", "knowledge", "consideration", "selection",
    "purchase", "satisfaction", "retention", "advocacy",
)
STAKES = {"high": 3, "medium": 2, "low": 1}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# DESIGN.md §3: every practice starts with these and may rename, add or retire moments.
DEFAULT_MOMENTS: tuple[dict[str, str], ...] = (
    {"key": "opening", "name": "Finding and first contact", "stage": "awareness", "stake": "medium",
     "examples": "website, product information, contact page, finding a phone number"},
    {"key": "conversion", "name": "Applying and onboarding", "stage": "selection", "stake": "medium",
     "examples": "quote, application, underwriting, welcome pack"},
    {"key": "service", "name": "Everyday service", "stage": "satisfaction", "stake": "low",
     "examples": "portal login, statements, updates, change of details"},
    {"key": "claim", "name": "Claims and hardship", "stage": "satisfaction", "stake": "high",
     "examples": "lodging a claim, claim progress, hardship request"},
    {"key": "complaint", "name": "Complaints", "stage": "satisfaction", "stake": "high",
     "examples": "complaint handling, disputes"},
    {"key": "renewal", "name": "Renewal and price changes", "stage": "retention", "stake": "medium",
     "examples": "renewal notice, premium increase"},
    {"key": "departure", "name": "Leaving", "stage": "retention", "stake": "medium",
     "examples": "cancellation, transfer out"},
    {"key": "return", "name": "Coming back", "stage": "retention", "stake": "low",
     "examples": "reinstatement, re-applying"},
    {"key": "advocacy", "name": "Recommending", "stage": "advocacy", "stake": "low",
     "examples": "referrals, reviews"},
)


class Practice(Base):
    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # ISO 3166-1 alpha-2 ("NZ"): how partners' phone numbers without a country code are read
    # (probes.human_contact); set from the time zone unless chosen (partnermon.practices.countries). "" if unknown.
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # The country's subdivision ("ENG", "AUK", "NSW") whose public holidays count too, by the ``holidays``
    # package's codes (partnermon.practices.public_holidays); "" for the country's national holidays only.
    region: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Business hours as minutes after local midnight, and weekdays as a bit mask (Monday = bit 0):
    # plain integers keep business-hours arithmetic possible in SQL later.
    business_start_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    business_end_minute: Mapped[int] = mapped_column(Integer, default=17 * 60 + 30)
    business_days: Mapped[int] = mapped_column(Integer, default=0b0011111)
    brand_colour: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    # Feedback (DESIGN.md §4): a client is not asked again within this many days unless an adviser insists;
    # links stop working after the lifetime; the open link (no personal token) is off unless turned on.
    feedback_throttle_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    feedback_link_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    open_feedback_link: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Follow-ups (partnermon.followups.rules): which answers open one, and how soon the client must have been
    # contacted, in business time. Normal: business days of the practice's own length (one day from 11:00
    # is 11:00 on the next business day); urgent (a moment whose stake is listed): business hours.
    followup_on_dissatisfied: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    followup_on_brand_harm: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    followup_on_contact_request: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    followup_due_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    followup_urgent_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    # Comma-separated stakes (high, medium, low) whose moments make a follow-up urgent.
    followup_urgent_stakes: Mapped[str] = mapped_column(String(20), default="high", server_default="high")
    # Recovery check-in (partnermon.followups.recovery): this many days after a follow-up is resolved, the client
    # is asked "Did {practice} put things right?"; 0 asks nobody.
    recovery_check_in_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # Incident alerts (partnermon.alerts.incidents): while an outage lasts, remind its subscribers every this
    # many business hours of it; 0 sends no reminders.
    incident_reminder_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    # Attribution (partnermon.scoring): below this many responses a feedback measure is "not enough feedback
    # yet", shown without a number and left out of rankings.
    score_min_responses: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Made by ``partnermon demo``: invented data, and its probes are paused so it makes no outbound requests.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Monthly reports (partnermon.reports): the previous month's report is made on this day of the month at
    # this hour, in the practice's time zone.
    report_day: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    report_hour: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_mime: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    users: Mapped[list["User"]] = relationship(back_populates="practice", cascade="all, delete-orphan")
    partners: Mapped[list["Partner"]] = relationship(back_populates="practice", cascade="all, delete-orphan")
    moments: Mapped[list["MomentOfTruth"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="MomentOfTruth.position"
    )
    # Read whole by BusinessHours.of (one query per BusinessHours, never one per hour checked).
    closures: Mapped[list["PracticeClosure"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="PracticeClosure.day"
    )

    @property
    def business_weekdays(self) -> list[int]:
        return [day for day in range(7) if self.business_days & (1 << day)]

    def describe_business_hours(self) -> str:
        days = ", ".join(WEEKDAY_NAMES[d][:3] for d in self.business_weekdays) or "no days"
        start, end = self.business_start_minute, self.business_end_minute
        return f"{days} {start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d} ({self.timezone})"


class PracticeClosure(Base):
    """A day the practice is closed (a staff day, the days between Christmas and New Year): outside business
    hours, like a public holiday. A day in the practice's own calendar, so a plain date."""
    __tablename__ = "practice_closure"
    __table_args__ = (UniqueConstraint("practice_id", "day", name="uq_practice_closure_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (practice_id, day) constraint's index serves lookups by practice.
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")

    practice: Mapped[Practice] = relationship(back_populates="closures")


class MomentOfTruth(Base):
    __tablename__ = "moment_of_truth"
    __table_args__ = (UniqueConstraint("practice_id", "key", name="uq_moment_practice_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    stage: Mapped[str] = mapped_column(String(20))
    stake: Mapped[str] = mapped_column(String(10))
    examples: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the client's form asks "How long did it take?" about this moment (issue 20's duration promises).
    ask_duration: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Which weight the scores give this moment (partnermon.scoring.learned): "owner" — the stake's weight — or
    # "learned" — the weight learned from clients' answers, frozen when the owner adopted it, with how many
    # answers it came from and when.
    weight_source: Mapped[str] = mapped_column(String(10), default="owner", server_default="owner")
    learned_weight: Mapped[float | None] = mapped_column(Float)
    learned_n: Mapped[int | None] = mapped_column(Integer)
    learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship(back_populates="moments")

    @property
    def stake_weight(self) -> int:
        return STAKES[self.stake]

    @property
    def uses_learned_weight(self) -> bool:
        return self.weight_source == "learned" and self.learned_weight is not None

    @property
    def weight(self) -> float:
        """The weight the scores use: the adopted learned weight, else the owner's stake."""
        return self.learned_weight if self.uses_learned_weight else float(STAKES[self.stake])  # type: ignore[return-value]
