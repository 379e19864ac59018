"""Who is emailed about a partner's touchpoints: its practice's owners unless they opted out, and the
advisers who opted in. Viewers only read (DESIGN.md §2) and are never emailed, nor is a deactivated user,
whatever they chose before. Every function stays inside the partner's practice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from partnermon.errors import NotFound, ValidationError
from partnermon.models import Partner, PartnerSubscription, User

ALERTED_ROLES = ("owner", "adviser")


def can_subscribe(user: User) -> bool:
    return user.is_active and user.role in ALERTED_ROLES


def _by_default(user: User) -> bool:
    # Owners answer for every partner, so they hear about all of them until they say otherwise; an adviser
    # deals with a few, and chooses which.
    return user.role == "owner"


def subscribers_for(session: Session, partner: Partner) -> list[User]:
    """The active owners and advisers of the partner's practice who are to be told about it, by id."""
    rows = session.execute(
        select(User, PartnerSubscription.subscribed)
        .outerjoin(PartnerSubscription, and_(PartnerSubscription.user_id == User.id,
                                             PartnerSubscription.partner_id == partner.id))
        .where(User.practice_id == partner.practice_id, User.is_active.is_(True), User.role.in_(ALERTED_ROLES))
        .order_by(User.id))
    return [user for user, subscribed in rows if (_by_default(user) if subscribed is None else subscribed)]


def is_subscribed(session: Session, user: User, partner: Partner) -> bool:
    if user.practice_id != partner.practice_id or not can_subscribe(user):
        return False
    subscribed = session.scalar(select(PartnerSubscription.subscribed).where(
        PartnerSubscription.user_id == user.id, PartnerSubscription.partner_id == partner.id))
    return _by_default(user) if subscribed is None else subscribed


def set_subscription(session: Session, now: datetime, user: User, partner: Partner, on: bool) -> None:
    """Record the user's choice for this partner (even one that matches the default: it was made)."""
    if user.practice_id != partner.practice_id:
        raise NotFound("No such partner.")
    if not can_subscribe(user):
        raise ValidationError({"notify": "Viewers are not emailed about partners. An owner can make you an "
                                         "adviser if you need to be."})
    values = {"practice_id": partner.practice_id, "user_id": user.id, "partner_id": partner.id, "subscribed": on,
              "updated_at": now}
    # An upsert: two clicks at once (two tabs) leave one row with the last choice, not an error.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(PartnerSubscription).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "partner_id"],
        set_={"subscribed": statement.excluded.subscribed, "updated_at": statement.excluded.updated_at}))
