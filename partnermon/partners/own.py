"""The practice's own touchpoints (issue 20): its website, booking page and client portal, asked about and
probed like a partner's. They hang off one partner row flagged ``is_own_practice``, made the first time an
owner adds one, so probes, incidents, alerts, feedback links and scores need nothing new. Every ranking
leaves that row out (``scoring.board`` scores it only when asked for by id); pages show it in its own
"Our own moments" section instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from partnermon.accounts import audit
from partnermon.models import Partner, Practice, User
from partnermon.scoring.attribution import PartnerScore
from partnermon.scoring.periods import Period


def own_partner(session: Session, practice_id: int) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.practice_id == practice_id, Partner.is_own_practice.is_(True))
                          .options(selectinload(Partner.touchpoints)).order_by(Partner.id).limit(1))


def ensure_own_partner(session: Session, now: datetime, practice: Practice, actor: User | str) -> Partner:
    """The practice's own row, made now if it has none (named after the practice; a partner of the same name
    keeps its name, the new row is then "… (our own)")."""
    found = own_partner(session, practice.id)
    if found is not None:
        return found
    name = practice.name[:200]
    if session.scalar(select(Partner.id).where(Partner.practice_id == practice.id,
                                               func.lower(Partner.name) == name.lower())) is not None:
        name = f"{practice.name[:185]} (our own)"
    partner = Partner(practice_id=practice.id, name=name, category="other", exposure=0, is_own_practice=True,
                      notes="The practice's own touchpoints: never ranked among partners.", created_at=now)
    try:
        # Two owners at once: the partial unique index (uq_partner_own_practice) turns the second row away, and
        # only its insert is undone (the savepoint); the second then uses the first one's row.
        with session.begin_nested():
            session.add(partner)
    except IntegrityError:
        found = own_partner(session, practice.id)
        if found is None:
            raise
        return found
    audit.record(session, now, practice.id, actor, "partner.own_created", "partner", partner.id,
                 "Started listing the practice's own touchpoints")
    return partner


def own_score(session: Session, now: datetime, practice: Practice, period: Period) -> PartnerScore | None:
    """The practice's own moments scored for ``period`` (by themselves: never among partners), or None."""
    from partnermon.scoring.board import build   # board imports partners' models; keep this module light

    partner = own_partner(session, practice.id)
    if partner is None:
        return None
    board = build(session, now, practice, period, partner_id=partner.id)
    return board.scores[0] if board.scores else None
