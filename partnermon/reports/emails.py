"""The monthly report's email to the owners: the PDF attached when it is under 5 MB, else a signed link.

The link is signed (itsdangerous, with an expiry) and names the report, its rendering and the owner, so it
opens that one PDF without signing in, stops working when the report is made again or the owner leaves,
and cannot be turned into another practice's report.
"""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from partnermon.followups.timeline import active_owners
from partnermon.mail import outbox
from partnermon.models import Report
from partnermon.reports.storage import file_name
from partnermon.scoring import periods

ATTACH_UNDER_BYTES = 5 * 1024 * 1024
LINK_DAYS = 30
_SALT = "partnermon.report-download"


def _signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def download_token(secret_key: str, report: Report, user_id: int) -> str:
    return _signer(secret_key).dumps({"r": report.id, "g": report.generation, "u": user_id})


def read_download_token(secret_key: str, token: str) -> tuple[int, int, int] | None:
    """(report id, generation, user id) from a valid, unexpired token; None otherwise."""
    try:
        data = _signer(secret_key).loads(token, max_age=LINK_DAYS * 86400)
        return int(data["r"]), int(data["g"]), int(data["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def send_report(session: Session, now: datetime, report: Report, pdf: bytes, *, base_url: str, secret_key: str) -> int:
    practice = report.practice
    month = periods.month_of(datetime.strptime(report.month + "-01", "%Y-%m-%d").date(), practice.timezone)
    name = file_name(practice.slug, report.month)
    sent = 0
    for owner in active_owners(session, practice.id):
        attach = len(pdf) < ATTACH_UNDER_BYTES
        link = None if attach else f"{base_url}/reports/download/{download_token(secret_key, report, owner.id)}"
        outbox.enqueue(
            session, now, template="report_ready", to=owner.email, dedupe_key=f"report:{report.id}:{owner.id}",
            base_url=base_url, practice_id=practice.id,
            context={"recipient": owner, "practice": practice, "month": month, "link": link, "file_name": name,
                     "size_mb": len(pdf) / 1024 / 1024, "pages": report.pages, "link_days": LINK_DAYS,
                     "reports_link": f"{base_url}/reports/"},
            attachment=(name, "application/pdf", pdf) if attach else None)
        sent += 1
    return sent
