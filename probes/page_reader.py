"""What a visitor sees on a page: its visible text in lines, its links and buttons, and what it loads.

``read_page`` walks the HTML once with lxml's HTML parser (libxml2, whose tokenizer follows HTML5 since
2.14) in *target* mode: it reports start tags, end tags and text as they come and builds no tree, so memory
stays flat on a huge or deeply nested page; it recovers from broken markup as a browser does (implied end
tags, stray end tags, unclosed elements) and is about seven times faster than the standard library's
``html.parser`` on a 200 KB page (bench/human_contact.py). A small stack of open elements tells what is hidden:

- the ``hidden`` attribute, ``aria-hidden="true"``, an inline ``display:none`` or ``visibility:hidden``;
- ``<template>``, ``<script>``, ``<style>``, ``<noscript>``, ``<title>``, and the ``<title>``/``<desc>`` of an SVG.

Text is read as a reader reads it: inline elements join (``<span>0800</span> <span>123</span>`` is one
"0800 123"), block elements and ``<br>`` start a new line, so two table cells are never one number.
Nothing here touches the network or knows what a phone number is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

MAX_DEPTH = 512              # past this a browser (Blink) stops nesting; a note says the page went deeper
MAX_SCRIPT_SCAN = 200_000    # inline script text searched for chat snippets, which sit near their start
MAX_HIDDEN_TEXT = 20_000     # hidden text kept only to explain what was discarded
_WHITESPACE = re.compile(r"\s+")
# libxml2 refuses C0 control characters and lone surrogates in text it is given; a browser shows neither.
_UNPARSEABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ud800-\udfff]")
_HIDING_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!important)?\s*(?:;|$)",
                           re.IGNORECASE)
_RAW = {"script", "style"}
_INVISIBLE = {"template", "noscript", "title", "desc"}
# Text either side of these never belongs to one phone number: "<td>0161</td><td>496 0000</td>".
_BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt",
           "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
           "li", "main", "nav", "ol", "option", "p", "pre", "section", "select", "summary", "table", "tbody", "td",
           "tfoot", "th", "thead", "tr", "ul", "button", "label", "body", "html", "caption", "legend", "menu"}


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
    parser = etree.HTMLParser(target=reader, recover=True, no_network=True, remove_comments=True, huge_tree=True)
    try:
        parser.feed(_UNPARSEABLE.sub("\ufffd", html) or " ")
        parser.close()
    except etree.LxmlError as exc:  # libxml2 gave up part-way: judge what was read, and say so
        reader.result.notes.append(f"the HTML could not be read to the end ({str(exc)[:80]})")
    return reader.page()


class _Reader:
    """lxml's parser target: called for each start tag, end tag and piece of text, in page order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, str | None]] = []   # (tag, why it hides its content, or None)
        self.hiding = 0                                  # how many open elements hide their content
        self.raw = 0                                     # depth inside <script> / <style>
        self.script_seen = 0
        self.hidden_seen = 0
        self.result = Page()
        self.link: Link | None = None
        self.link_words: list[str] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if not isinstance(tag, str):
            return
        if attributes:
            found = attributes.get("id", "") + " " + attributes.get("class", "")
            if tag in ("script", "iframe"):
                found += " " + attributes.get("src", "")
            if found.strip():
                self.result.signals.append(found.lower())
            if tag == "html" and not self.result.lang:
                self.result.lang = (attributes.get("lang") or attributes.get("xml:lang") or "").strip()
        why = _hides(tag, attributes) if attributes or tag in _INVISIBLE else None
        self.stack.append((tag, why))
        if why is not None:
            self.hiding += 1
        if len(self.stack) == MAX_DEPTH + 1 and not self.result.notes:
            self.result.notes.append(f"elements are nested deeper than {MAX_DEPTH} (a browser stops there); "
                                     "all were read")
        if tag in _RAW:
            self.raw += 1
            return
        if tag in _BLOCKS:
            self.add("\n")
        if tag in ("a", "button"):
            self.finish_link()
            self.link = Link(tag, attributes.get("href", "").strip(), "",
                             " ".join((attributes.get("aria-label") or attributes.get("title") or "").split()),
                             self.length, self.why_hidden())
            self.link_words = []
        elif tag == "img" and self.link is not None and attributes.get("alt"):
            self.link_words.append(" " + attributes["alt"] + " ")  # an icon link: <a href=/contact><img alt=Contact>

    def end(self, tag: str) -> None:
        if not isinstance(tag, str):
            return
        if tag in ("a", "button") and self.link is not None and self.link.tag == tag:
            self.finish_link()
        # libxml2 closes what it opened, in order: the element ending is on top (searched for all the same).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _, why in self.stack[index:]:
                    self.hiding -= why is not None
                del self.stack[index:]
                break
        if tag in _RAW:
            self.raw = max(0, self.raw - 1)
        elif tag in _BLOCKS:
            self.add("\n")

    def data(self, data: str) -> None:
        if self.raw:
            if self.script_seen < MAX_SCRIPT_SCAN and self.stack and self.stack[-1][0] == "script":
                self.script_seen += len(data)
                self.result.signals.append(data[:MAX_SCRIPT_SCAN].lower())
            return
        text = _WHITESPACE.sub(" ", data)  # newlines in the source are not line breaks on the page
        if self.hiding:
            if self.hidden_seen < MAX_HIDDEN_TEXT and text.strip():
                self.hidden_seen += len(text)
                self.result.hidden_text.append((text.strip(), self.why_hidden() or "hidden"))
            if self.link is not None and self.link.hidden_by:  # a hidden link is read, to say why it is left out
                self.link_words.append(text)
            return
        self.add(text)
        if self.link is not None:
            self.link_words.append(text)

    def comment(self, text: str) -> None:
        pass

    def close(self) -> None:
        self.finish_link()

    # Our own -----------------------------------------------------------------------------------------

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def why_hidden(self) -> str | None:
        if not self.hiding:
            return None
        return next(why for _, why in reversed(self.stack) if why is not None)

    def finish_link(self) -> None:
        if self.link is None:
            return
        link, self.link = self.link, None
        link.words = " ".join("".join(self.link_words).split())
        self.result.links.append(link)

    def page(self) -> Page:
        self.finish_link()
        self.result.text = "".join(self.parts)
        return self.result


def _hides(tag: str, attributes: dict[str, str]) -> str | None:
    """Why this element's content is not seen, or None."""
    if tag in _INVISIBLE:
        return f"inside <{tag}>"
    if "hidden" in attributes and (attributes.get("hidden") or "").lower() != "until-found":
        return "hidden"
    if (attributes.get("aria-hidden") or "").strip().lower() == "true":
        return 'aria-hidden="true"'
    style = attributes.get("style") or ""
    if style:
        match = _HIDING_STYLE.search(style.replace("\n", " "))
        if match:
            return "display:none" if "display" in match.group().lower() else "visibility:hidden"
    return None
