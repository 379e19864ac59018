"""A long report's PDF rendered in parts, side by side, and joined into one document.

WeasyPrint lays a document out on one core: a 40-partner report is some 26 M Python calls, about ten seconds.
Its chapters do not depend on one another's layout, so a report with many partners is cut at chapter
boundaries into parts (the summary and league table; a few partners' sections each, the appendix with the
last), each part an HTML document of its own from the same template, laid out by a pool of processes while
the next part's HTML is written; ``stitch.join`` then makes them one PDF. What a single document gets from
WeasyPrint by itself and parts must be given:

- page numbers ("Page 7 of 92"): ``stitch`` writes them once the count is known (on a one-document report too);
- the running head: the practice and month are literal in every part; the chapter comes from each part's h2;
- the contents page's numbers: the cover and contents are rendered last, with the numbers as text (while the
  other parts are being bound);
- links into other parts: a part carries empty stand-ins for the anchors it links to, and the join keeps the
  real anchor's destination (see ``stitch.join``);
- bookmarks: each part hands back its headings, and the join builds one outline.

A short report (or ``processes=1``) is one part, the whole document, rendered in this process.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import re
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from markupsafe import escape
from weasyprint import HTML

from partnermon.config import default_report_processes
from partnermon.reports.content import MonthlyReport
from partnermon.reports.render import ReportURLFetcher, RenderedPdf, render_html
from partnermon.reports.sections import PartnerSection
from partnermon.reports.stitch import Binding, Bookmark, RenderedPart, join

# Below this many partner sections a report is one document: parts would save less than they cost.
PARTS_FROM_SECTIONS = 10
# Partner-section parts per process: more parts balance the processes better, each repeats its fonts in the PDF.
PARTS_PER_PROCESS = 3
# Contents entries on one page, to guess the front's length (a wrong guess costs one more rendering of it).
TOC_ENTRIES_PER_PAGE = 42
_LINK = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    """Which chapters of the report one part holds (the template reads these)."""

    front: bool = False                        # cover and contents
    summary: bool = False                      # summary and league table
    sections: tuple[PartnerSection, ...] = ()  # partners' sections
    first_partners: bool = False               # carries the "Partners" anchor
    appendix: bool = False


@dataclass
class Plan:
    front: Part
    body: list[Part] = field(default_factory=list)   # in document order, after the front


def plan(report: MonthlyReport, processes: int) -> Plan | None:
    """The parts of ``report`` for ``processes`` processes; None when it should be one document."""
    sections = report.sections
    if processes < 2 or report.empty or len(sections) < PARTS_FROM_SECTIONS:
        return None
    size = max(1, math.ceil(len(sections) / (processes * PARTS_PER_PROCESS)))
    chunks = [tuple(sections[i:i + size]) for i in range(0, len(sections), size)]
    body = [Part(summary=True)]
    body += [Part(sections=chunk, first_partners=i == 0, appendix=i == len(chunks) - 1) for i, chunk in enumerate(chunks)]
    return Plan(front=Part(front=True), body=body)


def render_report(report: MonthlyReport, processes: int | None = None) -> RenderedPdf:
    """The report's PDF: in parts on a pool of ``processes`` (default: the machine's cores, at most four) when it
    is long, else as one document."""
    processes = default_report_processes() if processes is None else processes
    parts = plan(report, processes)
    if parts is None:
        whole = render_part(render_html(report))
        return RenderedPdf(join([whole]), whole.pages, whole.refused)
    executor = _pool(processes)
    try:
        # Written here one after another, each laid out there as soon as it is written.
        futures: list[Future[RenderedPart]] = [executor.submit(render_part, *with_stand_ins(render_html(report, part=p)))
                                               for p in parts.body]
        body = [future.result() for future in futures]
        # The cover and contents need every part's page count; they are laid out there while the rest is bound here.
        guess = 1 + math.ceil((len(report.sections) + 5) / TOC_ENTRIES_PER_PAGE)
        front_future = executor.submit(render_part, *_front_html(report, parts.front, body, guess))
        binding = Binding()
        for part in reversed(body):
            binding.put_in_front(part)
        front = front_future.result()
    except BrokenProcessPool:
        _reset_pool()
        raise RuntimeError("a report rendering process stopped unexpectedly; the report will be tried again") from None
    if front.pages != guess:
        # The numbers sit in a fixed-width cell, so they never change the front's own length: once is enough.
        log.debug("the front of a %d-partner report took %d pages, not %d: rendered again", len(report.sections),
                  front.pages, guess)
        front = render_part(*_front_html(report, parts.front, body, front.pages))
    binding.put_in_front(front)
    return RenderedPdf(binding.finish(), front.pages + sum(p.pages for p in body),
                       [url for p in (front, *body) for url in p.refused])


def _front_html(report: MonthlyReport, front: Part, body: list[RenderedPart], front_pages: int) -> tuple[str, frozenset[str]]:
    """The cover and contents, with every entry's page number if the front takes ``front_pages`` pages."""
    return with_stand_ins(render_html(report, part=front, toc_pages=_toc_pages(body, front_pages)))


def _toc_pages(body: list[RenderedPart], offset: int) -> dict[str, int]:
    """Anchor → page number in the joined PDF, for the parts after a front of ``offset`` pages."""
    numbers: dict[str, int] = {}
    for part in body:
        for anchor, index in part.anchors.items():
            numbers.setdefault(anchor, offset + index + 1)
        offset += part.pages
    return numbers


def with_stand_ins(html: str) -> tuple[str, frozenset[str]]:
    """``html`` with an empty element for each anchor it links to but does not hold, so that WeasyPrint keeps
    those links (it drops a link to an anchor it cannot find; ``stitch.join`` points them at the real one), and
    the names of those stand-ins. (The template writes every link as ``href="#anchor"``.)"""
    elsewhere = frozenset(_LINK.findall(html)) - frozenset(_ID.findall(html))
    if not elsewhere:
        return html, elsewhere
    stand_ins = "".join(f'<i id="{escape(anchor)}"></i>' for anchor in sorted(elsewhere))
    return html.replace("</body>", f'<div class="elsewhere" aria-hidden="true">{stand_ins}</div>\n</body>', 1), elsewhere


def render_part(html: str, stand_ins: frozenset[str] = frozenset()) -> RenderedPart:
    """One part as a PDF, with what the join needs from its layout (its own anchors: not the ``stand_ins``).
    Runs in a pool process (or in this one)."""
    fetcher = ReportURLFetcher()
    document = HTML(string=html, url_fetcher=fetcher, media_type="print").render()
    anchors: dict[str, int] = {}
    bookmarks: list[Bookmark] = []
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name not in stand_ins:
                anchors.setdefault(name, index)
        # WeasyPrint's positions are CSS pixels from the page's top left; PDF points run up from the bottom.
        height_pt = page.height * 0.75
        for level, label, (x, y), _state in page.bookmarks:
            bookmarks.append(Bookmark(level, label, index, x * 0.75, height_pt - y * 0.75))
    return RenderedPart(document.write_pdf(), len(document.pages), anchors, bookmarks, fetcher.refused)


# --- the pool of rendering processes ----------------------------------------------------------------------------

_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None
_executor_size = 0


def _pool(processes: int) -> ProcessPoolExecutor:
    """One pool per process, kept between reports: a new process spends about a second importing WeasyPrint and
    loading fonts. Forked from a fork server (never from this process, whose other threads may hold locks)."""
    global _executor, _executor_size
    with _lock:
        if _executor is None or _executor_size != processes:
            if _executor is not None:
                _executor.shutdown(wait=False, cancel_futures=True)
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                context.set_forkserver_preload([__name__])
            _executor, _executor_size = ProcessPoolExecutor(processes, mp_context=context), processes
        return _executor


def _reset_pool() -> None:
    global _executor
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None


def shutdown() -> None:
    """Stop the pool's processes (they also stop with this process)."""
    _reset_pool()
