"""What a visitor sees on a page: its visible text in lines, its links and buttons, and what it loads.

``read_page`` walks the HTML once with the standard library's ``html.parser``: a streaming tokenizer that
builds no tree (so memory stays flat on a huge or deeply nested page), never raises on broken markup and
needs nothing installed. It keeps a small stack of open elements to know what is hidden:

- the ``hidden`` attribute, ``aria-hidden="true"``, an inline ``display:none`` or ``visibility:hidden``;
- ``<template>``, ``<script>``, ``<style>``, ``<noscript>``, ``<title>``, and the ``<title>``/``<desc>`` of an SVG.

Text is read as a reader reads it: inline elements join (``<span>0800</span> <span>123</span>`` is one
"0800 123"), block elements and ``<br>`` start a new line, so two table cells are never one number.
Like a browser (Blink stops at 512), elements nested deeper than ``MAX_DEPTH`` are read as siblings.
Nothing here touches the network or knows what a phone number is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

MAX_DEPTH = 512
MAX_SCRIPT_SCAN = 200_000    # inline script text searched for chat snippets, which sit near their start
MAX_HIDDEN_TEXT = 20_000     # hidden text kept only to explain what was discarded
_WHITESPACE = re.compile(r"\s+")
_HIDING_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!important)?\s*(?:;|$)",
                           re.IGNORECASE)
_RAW = {"script", "style"}  # html.parser hands their content over as raw text
_INVISIBLE = {"template", "noscript", "title", "desc"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
         "param", "keygen"}
# Text either side of these never belongs to one phone number: "<td>0161</td><td>496 0000</td>".
_BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt",
           "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
           "li", "main", "nav", "ol", "option", "p", "pre", "section", "select", "summary", "table", "tbody", "td",
           "tfoot", "th", "thead", "tr", "ul", "button", "label", "body", "html", "caption", "legend", "menu"}
# An open element of these is closed by a new one of the same family (HTML's implied end tags).
_SELF_CLOSING_FAMILY = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"},
                        "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}}


@dataclass
class Link:
    """An ``<a>`` or ``<button>`` as the page shows it."""

    tag: str
    href: str
    words: str          # its text, with image alt texts
    label: str          # aria-label or title
    start: int          # where its text starts in Page.text
    hidden_by: str | None


@dataclass
class Page:
    text: str = ""                                        # visible text; "\n" between blocks
    links: list[Link] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)      # lower-cased script/iframe addresses, inline scripts, ids, classes
    hidden_text: list[tuple[str, str]] = field(default_factory=list)  # (text, why it is hidden)
    lang: str = ""
    notes: list[str] = field(default_factory=list)

    def line_at(self, offset: int) -> tuple[str, int]:
        """The line holding ``offset`` and where that line starts."""
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return self.text[start:end if end >= 0 else len(self.text)], start


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page()


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, str | None]] = []   # (tag, why it hides its content, or None)
        self.hiding = 0                                  # how many open elements hide their content
        self.raw: str | None = None
        self.script_seen = 0
        self.hidden_seen = 0
        self.result = Page()
        self.link: Link | None = None
        self.link_words: list[str] = []
        self.too_deep = False

    # The parser calls these -----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.signal(attributes.get("id", ""), attributes.get("class", ""),
                    attributes.get("src", "") if tag in ("script", "iframe") else "")
        if tag == "html" and not self.result.lang:
            self.result.lang = (attributes.get("lang") or attributes.get("xml:lang") or "").strip()
        if tag in _RAW:
            self.raw = tag
            return
        family = _SELF_CLOSING_FAMILY.get(tag)
        if self.stack and (family and self.stack[-1][0] in family or tag in _BLOCKS and self.stack[-1][0] == "p"):
            self.pop_to(len(self.stack) - 1)
        if tag in _BLOCKS:
            self.add("\n")
        if tag in ("a", "button"):
            self.finish_link()
            self.link = Link(tag, attributes.get("href", "").strip(), "",
                             " ".join((attributes.get("aria-label") or attributes.get("title") or "").split()),
                             self.length, self.why_hidden() or _hides(tag, attributes))
            self.link_words = []
        elif tag == "img" and self.link is not None and attributes.get("alt"):
            self.link_words.append(" " + attributes["alt"] + " ")  # an icon link: <a href=/contact><img alt=Contact>
        if tag in _VOID:
            return
        if len(self.stack) >= MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                self.result.notes.append(f"elements nested deeper than {MAX_DEPTH} were read as siblings, "
                                         "as a browser does")
            return
        why = _hides(tag, attributes)
        self.stack.append((tag, why))
        self.hiding += why is not None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _RAW:
            self.raw = None
        elif tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.pop_to(len(self.stack) - 1)
        if tag in ("a", "button"):
            self.finish_link()

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw:
            self.raw = None
            return
        if tag in ("a", "button") and self.link is not None and self.link.tag == tag:
            self.finish_link()
        for index in range(len(self.stack) - 1, max(-1, len(self.stack) - 64), -1):  # a stray end tag is ignored
            if self.stack[index][0] == tag:
                self.pop_to(index)
                break
        if tag in _BLOCKS:
            self.add("\n")

    def handle_data(self, data: str) -> None:
        if self.raw == "script":
            if self.script_seen < MAX_SCRIPT_SCAN:
                self.script_seen += len(data)
                self.signal(data[:MAX_SCRIPT_SCAN])
            return
        if self.raw:
            return
        text = _WHITESPACE.sub(" ", data)  # newlines in the source are not line breaks on the page
        why = self.why_hidden()
        if why is not None:
            if self.hidden_seen < MAX_HIDDEN_TEXT and text.strip():
                self.hidden_seen += len(text)
                self.result.hidden_text.append((text.strip(), why))
            if self.link is not None and self.link.hidden_by:  # a hidden link is read, to say why it is left out
                self.link_words.append(text)
            return
        self.add(text)
        if self.link is not None:
            self.link_words.append(text)

    def close(self) -> None:
        super().close()
        self.finish_link()

    # Our own -----------------------------------------------------------------------------------------

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def pop_to(self, index: int) -> None:
        for _, why in self.stack[index:]:
            self.hiding -= why is not None
        del self.stack[index:]

    def why_hidden(self) -> str | None:
        if not self.hiding:
            return None
        return next(why for _, why in reversed(self.stack) if why is not None)

    def signal(self, *texts: str) -> None:
        joined = " ".join(t for t in texts if t).strip()
        if joined:
            self.result.signals.append(joined.lower())

    def finish_link(self) -> None:
        if self.link is None:
            return
        link, self.link = self.link, None
        link.words = " ".join("".join(self.link_words).split())
        self.result.links.append(link)

    def page(self) -> Page:
        self.result.text = "".join(self.parts)
        return self.result


def _hides(tag: str, attributes: dict[str, str]) -> str | None:
    """Why this element's content is not seen, or None."""
    if tag in _INVISIBLE:
        return f"inside <{tag}>"
    if "hidden" in attributes and attributes.get("hidden", "").lower() != "until-found":
        return "hidden"
    if attributes.get("aria-hidden", "").strip().lower() == "true":
        return 'aria-hidden="true"'
    style = attributes.get("style", "")
    if style and _HIDING_STYLE.search(style.replace("\n", " ")):
        return "display:none" if "display" in _HIDING_STYLE.search(style).group().lower() else "visibility:hidden"
    return None
