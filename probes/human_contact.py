"""Does this page still offer a way to reach a person — and which? (used by the ``content`` probe kind)

Partners quietly remove phone numbers and contact links; a client who cannot reach anyone blames the
adviser. ``find_human_contact`` reads a page's HTML and lists what it offers: phone numbers (``tel:`` links
and numbers in the visible text), e-mail addresses (``mailto:`` links and addresses in the text), links to
a contact / complaints / help page, and chat (vendor widgets, "Live chat" links and buttons).

It is deliberately conservative about phone numbers in text — a false "still reachable" hides exactly the
regression this exists to catch — so dates, prices, policy numbers, sort codes, postcodes and long IDs are
not phone numbers. Only the stdlib ``html.parser`` is used, at most the first 2 MB are read, text inside
<script>, <style>, <title>, <template> and comments is never treated as visible (scripts are only looked at
for chat widgets), and nothing here touches the network or imports partnermon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

ContactKind = Literal["phone", "email", "contact_page", "chat"]
KIND_ORDER: tuple[ContactKind, ...] = ("phone", "email", "contact_page", "chat")

MAX_HTML_CHARS = 2_000_000
MAX_TEXT_CHARS = 80


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    text: str  # what was found, at most 80 characters: "0800 123 4567", "help@acme.test", "Contact us"
    href: str | None = None  # the link, absolute when a base URL was given; None for text and widgets


# -- phone numbers ---------------------------------------------------------------------------------------
# Separators are spaces (including no-break spaces) only for UK numbers: hyphens and slashes are what dates
# (2024-01-15, 01/02/2024) and sort codes (12-34-56) are made of. The look-behind refuses a number glued to
# a word, a currency sign, a decimal point or a dash (AB-0123456789, £1,234.56); the look-ahead refuses one
# that continues into more digits (a long reference).
_SP = r"[ \u00a0]"
_UK = rf"\(?0\d{{2,4}}\)?{_SP}?\d{{3,4}}{_SP}?\d{{3,4}}"
_INTERNATIONAL = rf"\+\d{{1,3}}{_SP}?(?:\(0\){_SP}?)?(?:\(\d{{1,4}}\){_SP}?)?\d(?:[ \u00a0-]?\d){{5,14}}"
_PHONE = re.compile(rf"(?<![\w£$€¥+.,:/#-])(?:{_INTERNATIONAL}|{_UK})(?![\w£$€%]|[.,/:-]?\d)")
# A run of digits with no spaces could be anything (an account number); count it only shortly after a cue
# word on the same line: "Call us on 08001234567", "Tel: 01632960001".
_PHONE_CUE = re.compile(r"\b(?:call|phone|tel|telephone|ring|freephone|helpline|mobile|whatsapp)\b", re.IGNORECASE)
_CUE_WINDOW = 30
# UK national numbers: 01 / 02 geographic, 03 non-geographic, 07 mobile, 08 freephone and special rate.
_UK_PREFIXES = ("01", "02", "03", "07", "08")
_TEN_DIGIT_PREFIXES = ("01", "0800", "0808")  # some older area codes and freephone numbers have 10 digits

# -- e-mail and contact links ------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
                    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w@-])")
_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".css", ".js")  # logo@2x.png is no address
_CONTACT_WORDS = re.compile(
    r"\bcontact\b|\bget in touch\b|\bspeak (?:to|with) (?:us|an? (?:adviser|advisor|agent|person|human))"
    r"|\btalk (?:to|with) (?:us|an? (?:adviser|advisor|agent|person|human))|\bcall us\b|\bcomplain(?:ts?)?\b"
    r"|\bhelp (?:&|and) support\b|\bcustomer (?:service|support|care)s?\b|\bhelp (?:centre|center)\b",
    re.IGNORECASE)
_CONTACT_PATHS = re.compile(
    r"contact(?!less)|get-?in-?touch|complain|help-?(?:and|&)?-?support|customer-?(?:service|care)", re.IGNORECASE)
_CHAT_WORDS = re.compile(r"\blive ?chat\b|\bweb ?chat\b|\bchat (?:with|to) (?:us|an? (?:adviser|advisor|agent))"
                         r"|\bchat (?:now|online)\b|\bstart (?:a )?chat\b|\bonline chat\b", re.IGNORECASE)

# -- chat widgets ------------------------------------------------------------------------------------------
# (label, signatures): a signature is matched against script/iframe src, inline script text and element
# ids/classes. Each is specific to the vendor's chat product, not its analytics (hs-scripts.com is not chat).
WIDGETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Intercom chat", ("widget.intercom.io", "js.intercomcdn.com", "intercomsettings", "intercom-container",
                       "intercom-launcher", "window.intercom")),
    ("Zendesk chat", ("static.zdassets.com", "ze-snippet", "zesettings", "v2.zopim.com", "$zopim", "zopim.com",
                      "zdassets.com/ekr")),
    ("LiveChat", ("cdn.livechatinc.com", "__lc.license", "livechatwidget", "chat-widget-container")),
    ("Drift chat", ("js.driftt.com", "drift.load(", "drift-widget", "drift-frame-controller")),
    ("Tawk.to chat", ("embed.tawk.to", "tawk_api")),
    ("Freshchat", ("wchat.freshchat.com", "fcwidget", "freshchat.com/js")),
    ("HubSpot chat", ("js.usemessages.com", "hubspotconversations", "hubspot-messages-iframe-container")),
    ("Salesforce chat", ("embedded_svc", "embeddedservice_bootstrap", "salesforce-scrt.com",
                         "service.force.com/embeddedservice", "embeddedservicehelpbutton")),
)
_WIDGET_LABELS = {label for label, _ in WIDGETS}
_MAX_SCRIPT_SCAN = 200_000  # inline scripts are searched for widget snippets, which sit near their start

_WHITESPACE = re.compile(r"\s+")
_INVISIBLE = {"script", "style", "title", "template"}
# Text either side of these never belongs to one phone number: "<td>0161</td><td>496 0000</td>".
_BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption",
           "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "option",
           "p", "pre", "section", "select", "table", "td", "th", "tr", "ul", "button", "label"}


def find_human_contact(html: str, base_url: str = "") -> list[Contact]:
    """Every way of reaching a person the page offers: phones, e-mails, contact pages, chats, in that order
    (each in page order), without duplicates."""
    scanner = _Scanner(base_url)
    scanner.feed(html[:MAX_HTML_CHARS])
    scanner.close()
    found = list(scanner.found)
    found.extend(_text_contacts(scanner.visible_text()))
    return _dedupe(found)


def describe(contacts: list[Contact], limit: int = 6) -> str:
    """One line for a result or an alert: 'phone 0800 123 4567, email help@acme.test, contact page “Contact us”'."""
    if not contacts:
        return "no phone number, email, contact link or chat found"
    parts = []
    for contact in contacts[:limit]:
        if contact.kind == "phone":
            parts.append(f"phone {contact.text}")
        elif contact.kind == "email":
            parts.append(f"email {contact.text}")
        elif contact.kind == "contact_page":
            parts.append(f"contact page “{contact.text}”")
        elif contact.href is None and contact.text in _WIDGET_LABELS:
            parts.append(contact.text)
        else:
            parts.append(f"chat “{contact.text}”")
    if len(contacts) > limit:
        parts.append(f"and {len(contacts) - limit} more")
    return ", ".join(parts)


class _Scanner(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.found: list[Contact] = []
        self.widgets: set[str] = set()
        self.text_parts: list[str] = []
        self.invisible = 0  # depth inside title / template (script and style are raw text: see raw)
        self.raw: str | None = None  # "script" or "style" while inside one
        self.script_seen = 0
        self.link: dict[str, str] | None = None  # the open <a> or <button>: its attributes and "tag"
        self.link_text: list[str] = []

    # The parser calls these -----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.look_for_widgets(" ".join((attributes.get("id", ""), attributes.get("class", ""),
                                        attributes.get("src", "") if tag in ("script", "iframe") else "")))
        if tag in ("script", "style"):
            self.raw = tag
            return
        if tag in _INVISIBLE:
            self.invisible += 1
            return
        if tag in _BLOCKS:
            self.text_parts.append("\n")
        if tag in ("a", "button"):
            self.finish_link()
            self.link = {**attributes, "tag": tag}
            self.link_text = []
        elif tag == "img" and self.link is not None and attributes.get("alt"):
            self.link_text.append(attributes["alt"])  # an icon-only link: "<a href=/contact><img alt=Contact>"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("a", "button"):
            self.finish_link()
        elif tag in _INVISIBLE:
            self.invisible = max(0, self.invisible - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw:
            self.raw = None
        elif tag in _INVISIBLE:
            self.invisible = max(0, self.invisible - 1)
        elif tag in ("a", "button") and self.link is not None and self.link["tag"] == tag:
            self.finish_link()
        if tag in _BLOCKS:
            self.text_parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.raw == "script":
            if self.script_seen < _MAX_SCRIPT_SCAN:
                self.script_seen += len(data)
                self.look_for_widgets(data[:_MAX_SCRIPT_SCAN])
            return
        if self.raw or self.invisible:
            return
        text = _WHITESPACE.sub(" ", data)  # newlines in the source are not line breaks on the page
        self.text_parts.append(text)
        if self.link is not None:
            self.link_text.append(text)

    def close(self) -> None:
        super().close()
        self.finish_link()

    # Our own -----------------------------------------------------------------------------------------

    def look_for_widgets(self, text: str) -> None:
        if not text.strip():
            return
        lowered = text.lower()
        for label, signatures in WIDGETS:
            if label not in self.widgets and any(signature in lowered for signature in signatures):
                self.widgets.add(label)
                self.found.append(Contact("chat", label))

    def finish_link(self) -> None:
        if self.link is None:
            return
        link, self.link = self.link, None
        text = _clip(" ".join("".join(self.link_text).split()))
        label = _clip(" ".join((link.get("aria-label") or link.get("title") or "").split()))
        href = link.get("href", "").strip()
        scheme = href.split(":", 1)[0].lower() if ":" in href else ""
        if scheme == "tel":
            number = " ".join(unquote(href[4:]).split(",")[0].split())
            digits = re.sub(r"\D", "", number)
            if 6 <= len(digits) <= 15:
                shown = text if re.sub(r"\D", "", text).endswith(digits[-6:]) else number
                self.found.append(Contact("phone", _clip(shown), href))
            return
        if scheme == "mailto":
            address = unquote(href[7:].split("?")[0]).split(",")[0].strip()
            if "@" in address:
                self.found.append(Contact("email", _clip(address), href))
            return
        words = f"{text} {label}"
        usable = scheme in ("", "http", "https") and href not in ("", "#")
        absolute = _absolute(self.base_url, href) if usable else None
        if _CHAT_WORDS.search(words):
            self.found.append(Contact("chat", text or label, absolute))
        elif link["tag"] == "a" and usable and (_CONTACT_WORDS.search(words) or _CONTACT_PATHS.search(_path(href))):
            self.found.append(Contact("contact_page", text or label or _clip(_path(href)), absolute))

    def visible_text(self) -> str:
        return "".join(self.text_parts)


def _text_contacts(text: str) -> list[Contact]:
    contacts = []
    for match in _PHONE.finditer(text):
        number = match.group()
        before = text[max(0, match.start() - _CUE_WINDOW):match.start()].rsplit("\n", 1)[-1]
        if _is_phone_number(number, cue=bool(_PHONE_CUE.search(before))):
            contacts.append(Contact("phone", _clip(" ".join(number.split()))))
    for match in _EMAIL.finditer(text):
        address = match.group().rstrip(".")
        if not address.lower().endswith(_FILE_SUFFIXES):
            contacts.append(Contact("email", _clip(address)))
    return contacts


def _is_phone_number(number: str, cue: bool) -> bool:
    digits = re.sub(r"\D", "", number.replace("(0)", ""))
    spaced = bool(re.search(r"[ \u00a0()-]", number))
    if not spaced and not cue:
        return False
    if number.startswith("+"):
        if digits.startswith("44"):  # UK in international form: +44 (0)20 7946 0018 → 20 7946 0018
            return _is_uk_number("0" + digits[2:])
        return 8 <= len(digits) <= 15
    return _is_uk_number(digits)


def _is_uk_number(digits: str) -> bool:
    if not digits.startswith(_UK_PREFIXES):
        return False
    return len(digits) == 11 or (len(digits) == 10 and digits.startswith(_TEN_DIGIT_PREFIXES))


def _dedupe(contacts: list[Contact]) -> list[Contact]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for contact in sorted(contacts, key=lambda c: KIND_ORDER.index(c.kind)):  # stable: page order within a kind
        key = (contact.kind, _identity(contact))
        if key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique


def _identity(contact: Contact) -> str:
    if contact.kind == "phone":  # "+44 800 123 4567", "0800 123 4567" and tel:08001234567 are one number
        source = unquote(contact.href[4:]) if contact.href else contact.text
        digits = re.sub(r"\D", "", source.replace("(0)", ""))
        return "0" + digits[2:] if source.strip().startswith("+44") else digits
    if contact.kind == "email":
        return contact.text.lower()
    return (contact.href or contact.text).lower()


def _absolute(base_url: str, href: str) -> str:
    try:
        return urljoin(base_url, href)
    except ValueError:  # e.g. an invalid IPv6 host: keep what the page said
        return href


def _path(href: str) -> str:
    try:
        return urlsplit(href).path
    except ValueError:  # e.g. an invalid IPv6 host: not a link we can judge
        return ""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"
