"""One practice's month as a PDF, for the worker and the CLI: the content gathered once (``content.gather``),
the template rendered for print and laid out by WeasyPrint as one document (``render.render_report``). (The
reports page's preview renders the same template for the browser: ``web.reports.preview``.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy.orm import Session

from partnermon.models import Practice
from partnermon.reports.content import gather
from partnermon.reports.render import render_report
from partnermon.scoring.periods import Period

Progress = Callable[[str], None]


def make_pdf(session: Session, now: datetime, practice: Practice, period: Period,
             progress: Progress | None = None) -> tuple[bytes, int]:
    tell = progress or (lambda _message: None)
    tell(f"gathering {practice.name}'s scores for {period.label} …")
    report = gather(session, now, practice, period)
    tell(f"laying out {len(report.sections)} partner sections and rendering the PDF …")
    rendered = render_report(report)
    return rendered.data, rendered.pages
