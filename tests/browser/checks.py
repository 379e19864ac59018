"""What every page must pass in the browser, and the crawl that finds the pages.

A page fails on: an axe-core violation of critical or serious impact, a page wider than the window
(sideways scrolling), a console error or uncaught exception, a request to another origin, or an error status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

from axe_playwright_python.base import AXE_SCRIPT

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from tests.browser.conftest import Site

SERIOUS = ("critical", "serious")
# Links the crawl does not follow: files rather than pages (CSV, PDF, the API's OpenAPI JSON, which the browser
# shows in its own viewer without a title or a language), and the client's pages (crawled on their own).
_NOT_PAGES = re.compile(r"(\.csv|\.pdf|\.json)$|^/reports/download/|^/f/|^/p/[^/]+/(feedback|logo)|/logo$|^/static/")
_ID = re.compile(r"(?<=/)\d+(?=/|$)")
_MONTH = re.compile(r"(?<=/)\d{4}-\d{2}(?=/|\.|$)")


def route_of(path: str) -> str:
    """The page a path is an instance of: /partners/3/touchpoints/7 → /partners/{n}/touchpoints/{n}."""
    return _MONTH.sub("{month}", _ID.sub("{n}", path.rstrip("/") or "/"))


@dataclass
class Watcher:
    """Console errors and uncaught exceptions of one page (a tab), read per visit."""
    page: "Page"
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda msg: self.errors.append(f"console {msg.type}: {msg.text}")
                     if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def take(self) -> list[str]:
        taken, self.errors[:] = list(self.errors), []
        return taken


def axe_violations(page: "Page") -> list[str]:
    """axe-core's critical and serious violations on the page as it stands: rule id, impact and targets."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:4])
            more = f" (+{len(violation['nodes']) - 4} more)" if len(violation["nodes"]) > 4 else ""
            found.append(f"axe {violation['id']} ({violation['impact']}): {targets}{more}")
    return found


def page_problems(page: "Page", watcher: Watcher, context: "BrowserContext") -> list[str]:
    """Everything wrong with the page now loaded in ``page`` (call after it has loaded)."""
    problems = axe_violations(page)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body, body *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
            .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                                   + (e.id ? '#' + e.id : ''))""")
        if not wide:   # text wider than its box (a long word), not a box wider than the window
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.scrollWidth > e.clientWidth + 1 && e.children.length === 0).slice(0, 4)
                .map(e => e.tagName.toLowerCase() + ': ' + (e.textContent || '').trim().slice(0, 40))""")
        problems.append(f"sideways overflow: {widths[0]} px wide in a {widths[1]} px window ({', '.join(wide)})")
    problems += watcher.take()
    foreign: list[str] = context.foreign_requests  # type: ignore[attr-defined]
    problems += [f"request to another origin: {url}" for url in foreign]
    foreign.clear()
    return problems


def visit(page: "Page", watcher: Watcher, context: "BrowserContext", url: str, status: int = 200) -> list[str]:
    """Open ``url`` and return its problems (a status other than ``status`` among them)."""
    watcher.take()
    response = page.goto(url, wait_until="load")
    problems = [] if response is None or response.status == status else [f"status {response.status}"]
    if status >= 400:   # Chromium reports an error status of the page itself on the console too
        watcher.errors[:] = [e for e in watcher.errors if f"status of {status} " not in e]
    return problems + page_problems(page, watcher, context)


def links_on(page: "Page", site: "Site") -> list[str]:
    """The same-origin pages linked from this one (no files, no downloads, no fragments)."""
    hrefs: list[str] = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        url = urldefrag(href).url
        if site.same_origin(url) and not _NOT_PAGES.search(urlsplit(url).path):
            found.append(url)
    return found


@dataclass
class Crawl:
    """The pages found from a start page, one per route, and what was wrong with each."""
    pages: dict[str, str] = field(default_factory=dict)          # route → the URL visited for it
    problems: dict[str, list[str]] = field(default_factory=dict)  # "route @ size" → problems

    def note(self, route: str, size: str, problems: list[str]) -> None:
        if problems:
            self.problems[f"{route} @ {size}"] = problems


def crawl(context: "BrowserContext", site: "Site", start: str, size: str, limit: int = 80) -> Crawl:
    """Follow links breadth first from ``start``, visiting one URL per route (up to ``limit`` routes)."""
    page = context.new_page()
    watcher = Watcher(page)
    found = Crawl()
    queue = [site.url + start]
    while queue and len(found.pages) < limit:
        url = queue.pop(0)
        route = route_of(urlsplit(url).path)
        if route in found.pages:
            continue
        found.pages[route] = url
        found.note(route, size, visit(page, watcher, context, url))
        if site.same_origin(page.url):
            queue += [link for link in links_on(page, site) if route_of(urlsplit(link).path) not in found.pages]
    page.close()
    return found


def revisit(context: "BrowserContext", urls: dict[str, str], size: str) -> Crawl:
    """The same pages again (at another window size)."""
    page = context.new_page()
    watcher = Watcher(page)
    again = Crawl(pages=dict(urls))
    for route, url in urls.items():
        again.note(route, size, visit(page, watcher, context, url))
    page.close()
    return again


def describe(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}:\n    " + "\n    ".join(found) for where, found in sorted(problems.items()))
