"""Early-warning alerts (DESIGN.md §5): owners are told once about each new significant worsening of a
partner × moment, even while it is still inside its thresholds.

The job scores every practice's rolling 30 days against the 30 days before (partnermon.scoring), keeps each
change it finds as an ``EarlyWarning`` row while it lasts, and emails the owners when a row is new and
worse. A warning is cleared only after it has not been seen for ``CLEAR_AFTER`` — a change that hovers at
the edge of significance would otherwise be cleared and "new" again every other hour. Demo practices are
skipped: their owners are invented. Emails carry the row's id in their dedupe key, so a retried job never
sends one twice. Commits nothing: the job commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.alerts.delivery import deliver
from partnermon.alerts.emails import local_time
from partnermon.followups.timeline import active_owners
from partnermon.models import EarlyWarning, Practice
from partnermon.scoring import board as board_, periods
from partnermon.scoring.warnings import Change
from partnermon.webhooks import events as webhook_events

CLEAR_AFTER = timedelta(days=3)
KIND = "early_warning"


@dataclass
class EarlyWarningReport:
    new: int = 0
    cleared: int = 0
    emails: int = 0

    def __bool__(self) -> bool:
        return bool(self.new or self.cleared)


def _key(partner_id: int, moment_id: int | None, measure: str, direction: str) -> tuple[int, int | None, str, str]:
    return partner_id, moment_id, measure, direction


def notify_early_warnings(session: Session, now: datetime, base_url: str, secret_key: str) -> EarlyWarningReport:
    report = EarlyWarningReport()
    for practice in session.scalars(select(Practice).where(Practice.is_demo.is_(False)).order_by(Practice.id)):
        board = board_.build(session, now, practice, periods.rolling(now, practice.timezone))
        found = {_key(c.partner.partner.id, c.moment_id, c.rate.key, c.direction): c for c in board.warnings}
        active = {_key(w.partner_id, w.moment_id, w.measure, w.direction): w for w in session.scalars(
            select(EarlyWarning).where(EarlyWarning.practice_id == practice.id, EarlyWarning.cleared_at.is_(None)))}
        for key, row in active.items():
            if key not in found and row.last_seen_at <= now - CLEAR_AFTER:
                row.cleared_at = now
                report.cleared += 1
        for key, change in found.items():
            row = active.get(key)
            if row is not None:
                row.last_seen_at, row.current_value, row.previous_value = now, change.result.after, change.result.before
                row.statistic, row.p_value = change.result.statistic, change.adjusted_p
                continue
            row = EarlyWarning(practice_id=practice.id, partner_id=key[0], moment_id=key[1], measure=key[2],
                               direction=key[3], previous_value=change.result.before, current_value=change.result.after,
                               test=change.result.name, statistic=change.result.statistic, p_value=change.adjusted_p,
                               first_seen_at=now, last_seen_at=now)
            session.add(row)
            session.flush()
            webhook_events.warning_raised(session, now, row)
            report.new += 1
            if change.direction == "worse":
                report.emails += _tell_owners(session, now, practice, row, change, base_url, secret_key)
                row.alerted_at = now
    return report


def _tell_owners(session: Session, now: datetime, practice: Practice, row: EarlyWarning, change: Change,
                 base_url: str, secret_key: str) -> int:
    partner = change.partner.partner
    context = {
        "practice": practice, "partner": partner, "moment_name": change.moment.name, "change": change,
        "description": change.describe(), "measure": change.rate.label,
        "before": change.shares[0], "after": change.shares[1],
        "since_text": local_time(practice, now),
        "link": f"{base_url}/partners/{partner.id}/experience", "partner_link": f"{base_url}/partners/{partner.id}",
        "about": f"{partner.name} – {change.moment.name}",
    }
    sent = 0
    for owner in active_owners(session, practice.id):
        if deliver(session, now, owner, KIND, dedupe_key=f"early-warning:{row.id}:{owner.id}", base_url=base_url,
                   practice_id=practice.id, context=context, secret_key=secret_key) is not None:
            sent += 1
    return sent
