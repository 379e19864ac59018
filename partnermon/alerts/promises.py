"""Broken promises (issue 20): when a partner's explicit promise — one it stated itself — is broken this month
(partnermon.promises.verdicts: the whole interval misses the target), the partner's subscribers are told
once. Tacit promises are the practice's own expectations: they show on the pages and in the report, and
email nobody.

The promise's ``told_for`` holds the month last told. It is claimed with a conditional UPDATE before the
emails are queued (with dedupe keys naming the promise, month and recipient) in the same transaction, so a
retried or doubled run never tells anyone twice. Demo practices are skipped: their people are invented.
Commits nothing: the job commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from partnermon.alerts.delivery import deliver
from partnermon.alerts.subscriptions import subscribers_for
from partnermon.models import Partner, Practice, Promise
from partnermon.promises import verdicts
from partnermon.scoring import periods

KIND = "promise_broken"


@dataclass
class PromiseAlertReport:
    broken: int = 0
    emails: int = 0

    def __bool__(self) -> bool:
        return bool(self.broken)


def _claim(session: Session, promise: Promise, month: str) -> bool:
    result = session.execute(
        update(Promise).where(Promise.id == promise.id, or_(Promise.told_for.is_(None), Promise.told_for != month))
        .values(told_for=month).execution_options(synchronize_session=False))
    return result.rowcount == 1


def notify_broken_promises(session: Session, now: datetime, base_url: str, secret_key: str) -> PromiseAlertReport:
    report = PromiseAlertReport()
    for practice in session.scalars(select(Practice).where(Practice.is_demo.is_(False)).order_by(Practice.id)):
        month = periods.month_of(now.astimezone(ZoneInfo(practice.timezone)).date(), practice.timezone)
        promises = list(session.scalars(
            select(Promise).where(Promise.practice_id == practice.id, Promise.kind == "explicit",
                                  or_(Promise.told_for.is_(None), Promise.told_for != month.key))
            .options(joinedload(Promise.partner).joinedload(Partner.practice), joinedload(Promise.touchpoint),
                     joinedload(Promise.moment))
            .order_by(Promise.id)))
        for promise in promises:
            found = verdicts.verdict(session, practice, promise, month)
            if not found.broken or not _claim(session, promise, month.key):
                continue
            report.broken += 1
            report.emails += _tell(session, now, practice, found, month, base_url, secret_key)
    return report


def _tell(session: Session, now: datetime, practice: Practice, found: verdicts.Verdict, month: periods.Period,
          base_url: str, secret_key: str) -> int:
    promise = found.promise
    partner = promise.partner
    context = {
        "practice": practice, "partner": partner, "promise": promise, "verdict": found, "month": month.label,
        "target": verdicts.describe_target(promise), "scope": verdicts.scope_label(promise),
        "evidence": found.evidence(), "link": f"{base_url}/partners/{partner.id}#promises",
        "partner_link": f"{base_url}/partners/{partner.id}", "about": f"{partner.name} – {promise.measure_label}",
        "account_manager": {"name": partner.account_manager_name, "email": partner.account_manager_email,
                            "phone": partner.account_manager_phone}
        if partner.account_manager_email or partner.account_manager_name or partner.account_manager_phone else None,
    }
    sent = 0
    for user in subscribers_for(session, partner):
        if deliver(session, now, user, KIND, dedupe_key=f"promise-broken:{promise.id}:{month.key}:{user.id}",
                   base_url=base_url, practice_id=practice.id, context={**context, "recipient": user},
                   secret_key=secret_key) is not None:
            sent += 1
    return sent
