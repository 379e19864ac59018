"""One practice's month as a PDF, for the worker and the CLI: the content gathered once (``content.gather``),
the template rendered for print and laid out by WeasyPrint (a long report in parts, on ``processes`` processes:
``reports.parts``). (The reports page's preview renders the same template for
the browser: ``web.reports.preview``.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy.orm import Session

from partnermon.models import Practice
from partnermon.reports.content import gather
from partnermon.reports.parts import render_report
from partnermon.scoring.periods import Period

Progress = Callable[[str], None]


@dataclass
class Timings:
    gather_s: float
    render_s: float     # the HTML and the PDF: in parts they overlap


def make_pdf(session: Session, now: datetime, practice: Practice, period: Period,
             progress: Progress | None = None, timings: list[Timings] | None = None,
             processes: int | None = None) -> tuple[bytes, int]:
    tell = progress or (lambda _message: None)
    started = time.perf_counter()
    tell(f"gathering {practice.name}'s scores for {period.label} …")
    report = gather(session, now, practice, period)
    gathered = time.perf_counter()
    tell(f"laying out {len(report.sections)} partner sections and rendering the PDF …")
    rendered = render_report(report, processes)
    finished = time.perf_counter()
    if timings is not None:
        timings.append(Timings(gathered - started, finished - gathered))
    return rendered.data, rendered.pages

