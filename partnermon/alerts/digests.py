"""The daily digest: the alerts a user chose to receive once a day, in one email at 08:00 in their practice's
time zone (later if their quiet hours cover 08:00). Not on a public holiday or a closure day of the practice
(``BusinessHours.is_closed``): nobody is at work to read it, so its alerts go in the next open day's digest.

``send_digests`` is the periodic job's body; it runs every few minutes and is a no-op until a user's local
08:00 has passed. The outbox dedupe key names the user and the local date, so a day has at most one digest
however often the job runs: an alert that arrives after today's digest waits for tomorrow's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from partnermon.alerts.delivery import quiet_until
from partnermon.mail import outbox
from partnermon.models import DigestItem, OutboxEmail, User
from partnermon.practices.business_hours import BusinessHours

DIGEST_HOUR = 8


@dataclass
class DigestReport:
    digests: int = 0
    items: int = 0

    def __bool__(self) -> bool:
        return bool(self.digests)


def digest_key(user: User, now: datetime) -> str:
    return f"digest:{user.id}:{now.astimezone(ZoneInfo(user.practice.timezone)).date().isoformat()}"


def send_digests(session: Session, now: datetime, base_url: str) -> DigestReport:
    """Queue today's digest for every user whose local 08:00 has passed and who has alerts waiting."""
    report = DigestReport()
    waiting: dict[int, list[DigestItem]] = defaultdict(list)
    for item in session.scalars(select(DigestItem).where(DigestItem.sent_at.is_(None), DigestItem.created_at <= now)
                                .order_by(DigestItem.created_at, DigestItem.id)):
        waiting[item.user_id].append(item)
    if not waiting:
        return report
    users = session.scalars(select(User).where(User.id.in_(waiting), User.is_active.is_(True))
                            .options(joinedload(User.practice)))
    hours: dict[int, BusinessHours] = {}
    for user in users:
        local = now.astimezone(ZoneInfo(user.practice.timezone))
        if local.hour < DIGEST_HOUR or quiet_until(user, now) is not None:
            continue
        if user.practice_id not in hours:
            hours[user.practice_id] = BusinessHours.of(user.practice)
        if hours[user.practice_id].is_closed(local.date()):
            continue
        key = digest_key(user, now)
        if session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key)) is not None:
            continue    # today's digest went out already; these wait for tomorrow's
        items = waiting[user.id]
        outbox.enqueue(session, now, template="alert_digest", to=user.email, dedupe_key=key, base_url=base_url,
                       practice_id=user.practice_id,
                       context={"practice": user.practice, "recipient": user, "items": items})
        # Conditional on sent_at IS NULL: should two runs ever overlap, an item is in one digest only.
        session.execute(update(DigestItem).where(DigestItem.id.in_([i.id for i in items]),
                                                 DigestItem.sent_at.is_(None))
                        .values(sent_at=now).execution_options(synchronize_session=False))
        report.digests += 1
        report.items += len(items)
    return report
