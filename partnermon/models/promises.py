"""Promises (issue 20): what a partner states (explicit, with its quote and where it was stated) or what the
practice's clients expect (tacit) of a touchpoint or moment — a measure and a target, kept or broken each
month. The verdicts are computed when read (partnermon.promises.verdicts); only the "told for" marker is
stored, so a newly broken explicit promise alerts the partner's subscribers once per month.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.partners import Partner, Touchpoint
from partnermon.models.practice import MomentOfTruth

PROMISE_KINDS = {"explicit": "Explicit (stated by the partner)", "tacit": "Tacit (what our clients expect)"}
# measure → (label, comparison): availability and satisfaction must reach the target, times must stay under it.
PROMISE_MEASURES = {
    "availability": ("Availability", "at_least"),
    "p95_ms": ("Response time (p95)", "at_most"),
    "duration": ("How long it took, as clients say", "at_most"),
    "satisfaction": ("Satisfied clients", "at_least"),
}


class Promise(Base):
    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))           # explicit | tacit
    quote: Mapped[str] = mapped_column(Text, default="")     # explicit: the partner's words
    source: Mapped[str] = mapped_column(String(500), default="")   # explicit: where they said it
    measure: Mapped[str] = mapped_column(String(20))        # PROMISE_MEASURES
    # availability and satisfaction: a percentage (0–100); p95_ms: milliseconds; duration: seconds.
    target: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The month ("2026-11") whose broken verdict was last told to the partner's subscribers.
    told_for: Mapped[str | None] = mapped_column(String(7))

    partner: Mapped[Partner] = relationship()
    touchpoint: Mapped[Touchpoint | None] = relationship()
    moment: Mapped[MomentOfTruth | None] = relationship()

    @property
    def measure_label(self) -> str:
        return PROMISE_MEASURES[self.measure][0]

    @property
    def comparison(self) -> str:
        return PROMISE_MEASURES[self.measure][1]

    @property
    def kind_label(self) -> str:
        return "Explicit" if self.kind == "explicit" else "Tacit"
