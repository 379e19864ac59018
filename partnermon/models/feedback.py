"""Feedback requests (a personal link for one client about one partner) and the client's response.

DESIGN.md §4 gives the questions and scales, §8 the rules for link tokens: only a SHA-256 of the token is
stored, it expires, can be revoked, and is bound here to practice, client and partner.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.partners import Partner, Touchpoint
from partnermon.models.practice import MomentOfTruth

if TYPE_CHECKING:
    from partnermon.models.accounts import User

REQUEST_STATUSES = ("queued", "sent", "opened", "answered", "expired", "revoked")
BRAND_EFFECTS = ("better", "same", "worse")
CONTACT_CHANNELS = ("phone", "email")


class FeedbackRequest(Base):
    __tablename__ = "feedback_request"
    __table_args__ = (
        UniqueConstraint("practice_id", "external_ref", name="uq_feedback_request_external_ref"),
        Index("ix_feedback_request_client", "practice_id", "client_email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id", ondelete="SET NULL"))
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="SET NULL"))
    # The adviser who gets the follow-up when this client is unhappy.
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    client_name: Mapped[str] = mapped_column(String(200), default="")
    client_email: Mapped[str] = mapped_column(String(254))
    # A CRM's own id for the interaction: the same ref twice is the same request (idempotent API).
    external_ref: Mapped[str | None] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # How the request was made: form, csv, api, cli.
    source: Mapped[str] = mapped_column(String(10), default="form")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an adviser asked although the client was asked recently (the throttle), and why not.
    throttle_overridden: Mapped[bool] = mapped_column(Boolean, default=False)

    partner: Mapped[Partner] = relationship()
    touchpoint: Mapped[Touchpoint | None] = relationship()
    moment: Mapped[MomentOfTruth | None] = relationship()
    adviser: Mapped["User | None"] = relationship()
    response: Mapped["FeedbackResponse | None"] = relationship(back_populates="request", uselist=False,
                                                               cascade="all, delete-orphan")

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class FeedbackResponse(Base):
    """The client's answers. One per request: the unique request id makes a retried POST an update."""

    __tablename__ = "feedback_response"
    __table_args__ = (UniqueConstraint("submission_key", name="uq_feedback_response_submission_key"),
                      # Scores read a practice's responses in a period (partnermon.scoring.measures).
                      Index("ix_feedback_response_practice_created", "practice_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_request.id", ondelete="CASCADE"),
                                                   unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="SET NULL"))
    satisfaction: Mapped[int] = mapped_column(SmallInteger)          # 1–5
    recommend: Mapped[int | None] = mapped_column(SmallInteger)      # 0–10
    effort: Mapped[int | None] = mapped_column(SmallInteger)         # 1–7
    brand_effect: Mapped[str | None] = mapped_column(String(10))     # better / same / worse
    comment: Mapped[str] = mapped_column(Text, default="")
    wants_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_channel: Mapped[str | None] = mapped_column(String(10))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # "How long did it take?" in seconds, as the client wrote it (partnermon.promises.durations), when asked.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    duration_text: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Answers through the practice's open link are not tied to a personal link: kept apart in scores.
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    # Only for open-link answers (a personal link's request already knows who the client is), so that a
    # client who asks to be contacted can be, and so their data can be erased on request.
    client_name: Mapped[str | None] = mapped_column(String(200))
    client_email: Mapped[str | None] = mapped_column(String(254))
    # The open-link form's one-time key: a double click or a retried post of that form stores one answer.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    request: Mapped[FeedbackRequest | None] = relationship(back_populates="response")
    partner: Mapped[Partner] = relationship()
    moment: Mapped[MomentOfTruth | None] = relationship()

    @property
    def is_dissatisfied(self) -> bool:
        return is_dissatisfied(self.satisfaction, self.recommend)

    @property
    def harms_brand(self) -> bool:
        return harms_brand(self.brand_effect)


# DESIGN.md §4, once: a stored response and answers not yet stored (feedback.responses.Answers) both use these,
# and scoring counts with the same rule in SQL (dissatisfied_sql, which must say what is_dissatisfied says).
def is_dissatisfied(satisfaction: int | None, recommend: int | None) -> bool:
    """Satisfaction ≤ 2 (or recommend ≤ 6 when satisfaction is missing)."""
    if satisfaction is not None:
        return satisfaction <= 2
    return recommend is not None and recommend <= 6


def dissatisfied_sql() -> ColumnElement[bool]:
    """is_dissatisfied as a condition on FeedbackResponse's columns, for counting in the database."""
    r = FeedbackResponse
    return or_(and_(r.satisfaction.is_not(None), r.satisfaction <= 2),
               and_(r.satisfaction.is_(None), r.recommend.is_not(None), r.recommend <= 6))


def satisfied_sql() -> ColumnElement[bool]:
    """A satisfied response (DESIGN.md §4: satisfaction 4–5; a promoter, recommend 9–10, when satisfaction is
    missing), for counting in the database. The learned stakes (partnermon.scoring.learned) set these against
    the dissatisfied ones; neutral answers (3) are neither."""
    r = FeedbackResponse
    return or_(and_(r.satisfaction.is_not(None), r.satisfaction >= 4),
               and_(r.satisfaction.is_(None), r.recommend.is_not(None), r.recommend >= 9))


def harms_brand(brand_effect: str | None) -> bool:
    return brand_effect == "worse"


class PublicAttempt(Base):
    """One attempt on a public page that counts against a rate limit: a link token that matched nothing
    (``bad_link``) or an answer through a practice's open link (``open_link``). Old rows are pruned."""

    __tablename__ = "public_attempt"
    __table_args__ = (Index("ix_public_attempt_kind_ip_at", "kind", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A practice's key for the JSON API; only a SHA-256 of the key is kept, with a short prefix to tell
    keys apart on the settings page."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the key may do, space-separated ("read write"): "write" makes feedback requests, "read" reads the
    # practice's rows. Keys made before scopes existed were made for writing, so they keep "write" only.
    scopes: Mapped[str] = mapped_column(String(20), default="write", server_default="write")
    # The per-key rate limit's fixed window (partnermon.api.rate_limits): counted on the key's own row, so
    # every web process sees the same count.
    rate_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_window_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


__all__ = ["ApiKey", "BRAND_EFFECTS", "CONTACT_CHANNELS", "FeedbackRequest", "FeedbackResponse", "PublicAttempt",
           "REQUEST_STATUSES"]
