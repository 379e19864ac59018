"""Does this page still offer a way to reach a person — and which? (used by the ``content`` probe kind)

Partners quietly remove phone numbers and contact links; a client who cannot reach anyone blames the
adviser. ``judge_page`` reads what a visitor sees (``probes.page_reader``) and lists every way it offers,
each with the text it came from, and everything that looked like one but was left out, with the reason:

- phone numbers in the visible text, by libphonenumber's rules for the page's region (``probes.phones``),
  and ``tel:`` links; ``sms:`` links; WhatsApp and Messenger links (``messaging``);
- e-mail addresses (``mailto:`` and in the text), unless the address or its sentence says nobody reads it;
- links to a contact, help or complaints page, by their words or address, but not look-alikes;
- live chat: a known provider's script (``data/chat_providers.json``) or a chat button — unless the page
  says the chat is a bot.

The region for numbers written without a country code is the page's own language tag (``en-AU``), else
its address's country domain (``.co.nz``), else the practice's country; a number valid in a later one
still counts (an Australian page whose template says ``lang="en-US"``). Nothing here touches the network
or imports partnermon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

import phonenumbers

from probes import contact_words as words
from probes.page_decode import MAX_PAGE_CHARS, decode_page
from probes.page_reader import Link, Page, read_page
from probes.phones import PhoneCandidate, label_of, phones_in_line, region_or_none

ContactKind = Literal["phone", "sms", "messaging", "email", "contact_page", "chat"]
KIND_ORDER: tuple[ContactKind, ...] = ("phone", "sms", "messaging", "email", "contact_page", "chat")
MAX_HTML_CHARS = MAX_PAGE_CHARS
MAX_TEXT_CHARS = 80
MAX_DISCARDED = 20
# libphonenumber judges a candidate in about 0.25 ms: a page of nothing but numbers is read this far, no further.
MAX_PHONE_CANDIDATES = 500
_WIDGET_SOURCE = "the page loads "
# Country domains that are sold as generic names (acme.io, acme.co): they say nothing about the country.
_VANITY_TLDS = {"io", "co", "me", "tv", "ai", "ly", "fm", "gg", "to", "cc", "ws", "la", "sh", "so", "app", "am", "im"}


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    text: str  # what was found, at most 80 characters: "0800 123 4567", "help@acme.test", "Contact us"
    href: str | None = None  # the link, absolute when a base URL was given; None for text and widgets
    source: str = field(default="", compare=False)  # the line of the page it came from
    number: str = field(default="", compare=False, repr=False)  # a phone's E.164 form: one number however written


@dataclass(frozen=True)
class Discarded:
    kind: ContactKind
    text: str
    reason: str  # "labelled fax", "hidden (display:none)", "a no-reply address"

    def __str__(self) -> str:
        return f"{self.text}: {self.reason}"


@dataclass
class HumanContact:
    """The verdict: ``found`` empty means no way to reach a person; ``refused`` set means not judged."""

    found: list[Contact] = field(default_factory=list)
    discarded: list[Discarded] = field(default_factory=list)
    region: str | None = None
    region_from: str = ""
    refused: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool | None:
        return None if self.refused else bool(self.found)

    @property
    def kinds(self) -> list[ContactKind]:
        return [kind for kind in KIND_ORDER if any(c.kind == kind for c in self.found)]

    def details(self, limit: int = 6) -> dict[str, Any]:
        """The verdict for a probe result's details: plain JSON, bounded so that it stays within what a stored
        result keeps (monitoring.runs keeps 4,000 characters of details): at most about 3,600."""
        return {
            "human_contact": None if self.refused else [
                {"kind": c.kind, "text": c.text, "href": c.href if c.href is None else _clip(c.href, 120),
                 "source": _clip(c.source)} for c in self.found[:limit]],
            "human_contact_kinds": self.kinds,
            "human_contact_summary": f"not checked: {self.refused}" if self.refused else describe(self.found),
            "human_contact_discarded": [{"kind": d.kind, "text": d.text, "reason": _clip(d.reason)}
                                        for d in self.discarded[:limit - 1]],
            "human_contact_region": f"{self.region or 'none'} ({self.region_from})",
            **({"human_contact_notes": self.notes[:3]} if self.notes else {}),
        }


def find_human_contact(html: str, base_url: str = "", region: str = "") -> list[Contact]:
    """Every way of reaching a person the page offers, in KIND_ORDER (page order within a kind)."""
    return judge_page(html, base_url, region).found


def judge_page(body: str | bytes, base_url: str = "", region: str = "",
               content_type: str | None = None) -> HumanContact:
    """Read a page (text, or bytes as sent with their Content-Type) and judge it; never raises on bad input."""
    decoded = decode_page(body, content_type)
    if decoded.text is None:
        return HumanContact(refused=decoded.refused, notes=decoded.notes)
    page = read_page(decoded.text)
    verdict = HumanContact(notes=decoded.notes + page.notes)
    regions = _regions(page.lang, base_url, region, verdict)
    found: list[Contact] = []
    discarded: list[Discarded] = []
    _judge_links(page, base_url, regions, found, discarded)  # first: a tel: link wins over its text (it has the href)
    _judge_text(page, regions, found, discarded, verdict.notes)
    _judge_widgets(page, found)
    _judge_chat(page, found, discarded)
    _judge_hidden(page, regions, found, discarded)
    verdict.found = _dedupe(found)
    verdict.discarded = _dedupe_discarded(discarded, verdict.found)[:MAX_DISCARDED]
    return verdict


def describe(contacts: list[Contact], limit: int = 6) -> str:
    """One line for a result or an alert: 'phone 0800 123 4567, email help@acme.test, contact page “Contact us”'."""
    if not contacts:
        return "no phone number, email, contact link or chat found"
    parts = []
    for contact in contacts[:limit]:
        if contact.kind in ("phone", "email", "sms"):
            parts.append(f"{'text' if contact.kind == 'sms' else contact.kind} {contact.text}")
        elif contact.kind == "contact_page":
            parts.append(f"contact page “{contact.text}”")
        elif contact.href is None and contact.text.endswith(" chat"):
            parts.append(contact.text)
        else:
            parts.append(f"{'chat' if contact.kind == 'chat' else 'message'} “{contact.text}”")
    if len(contacts) > limit:
        parts.append(f"and {len(contacts) - limit} more")
    return ", ".join(parts)


def explain(verdict: HumanContact, limit: int = 6) -> list[str]:
    """Why the verdict is what it is, one line each: found ways with their source, then what was left out."""
    lines = [f"{c.kind.replace('_', ' ')} {c.text}" + (f" — from “{_clip(c.source, 60)}”" if c.source else "")
             for c in verdict.found[:limit]]
    lines += [f"not counted: {d}" for d in verdict.discarded[:limit]]
    return lines


# -- the parts of a verdict ----------------------------------------------------------------------------------

def _regions(lang: str, base_url: str, practice: str, verdict: HumanContact) -> list[str | None]:
    chosen: list[tuple[str, str]] = []
    subtags = [s for s in re.split(r"[-_]", lang.strip()) if s][1:]
    from_lang = next((s.upper() for s in subtags if len(s) == 2 and s.isalpha()), None)
    if region_or_none(from_lang):
        chosen.append((from_lang, f"page language {lang.strip()}"))
    host = _host(base_url)
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    from_tld = "GB" if tld == "uk" else tld.upper()
    if tld not in _VANITY_TLDS and region_or_none(from_tld):
        chosen.append((from_tld, f"address .{tld}"))
    if region_or_none(practice):
        chosen.append((practice.upper(), "practice country"))
    unique = list(dict.fromkeys(code for code, _ in chosen))
    if chosen:
        verdict.region, verdict.region_from = chosen[0]
    else:
        verdict.region_from = "no language tag, country domain or practice country: only +… numbers"
    return unique or [None]


def _judge_text(page: Page, regions: list[str | None], found: list[Contact], discarded: list[Discarded],
                notes: list[str]) -> None:
    lines = page.text.split("\n")
    previous = ""
    left = MAX_PHONE_CANDIDATES
    for line in lines:
        if not line.strip():
            continue
        candidates = _phones(line, regions, previous, left) if left > 0 else []
        left -= len(candidates)
        if left <= 0 and candidates:
            notes.append(f"Only the first {MAX_PHONE_CANDIDATES:,} number-like texts were read as phone numbers.")
        for candidate in candidates:
            if candidate.reason is None:
                found.append(Contact("phone", _clip(candidate.text), None, line.strip(), candidate.e164))
            elif len(re.sub(r"\D", "", candidate.text)) >= 7:
                discarded.append(Discarded("phone", _clip(candidate.text), candidate.reason))
        if "@" in line:
            for match in words.EMAIL.finditer(line):
                address = match.group().rstrip(".")
                if not address.lower().endswith(words.FILE_SUFFIXES):
                    _email(address, None, line, found, discarded)
        previous = line


def _phones(line: str, regions: list[str | None], previous: str, limit: int) -> list[PhoneCandidate]:
    """Candidates by the first region; a span none accepted but a later region does is taken from that one."""
    first = phones_in_line(line, regions[0], previous, limit)
    if len(regions) == 1 or all(c.reason is None for c in first):
        return first
    chosen = list(first)
    for region in regions[1:]:
        for other in phones_in_line(line, region, previous, limit):
            if other.reason is not None:
                continue
            span = range(other.start, other.start + len(other.text))
            overlapping = [c for c in chosen if c.start < span.stop and span.start < c.start + len(c.text)]
            if all(c.reason is not None for c in overlapping):
                chosen = [c for c in chosen if c not in overlapping] + [other]
    return sorted(chosen, key=lambda c: c.start)


def _email(address: str, href: str | None, line: str, found: list[Contact], discarded: list[Discarded]) -> None:
    if words.NOREPLY_ADDRESS.search(address):
        discarded.append(Discarded("email", _clip(address), "a no-reply address"))
    elif words.NOBODY_READS.search(line):
        discarded.append(Discarded("email", _clip(address), f"the page says nobody reads it (“{_clip(line.strip(), 60)}”)"))
    else:
        found.append(Contact("email", _clip(address), href, line.strip()))


def _judge_links(page: Page, base_url: str, regions: list[str | None], found: list[Contact],
                 discarded: list[Discarded]) -> None:
    for link in page.links:
        line, line_start = page.line_at(link.start)
        before = line[:max(0, link.start - line_start)]
        shown = _clip(link.words or link.label)
        kept: list[Contact] = []
        _judge_link(link, shown, before, line, base_url, regions, kept, discarded)
        if link.hidden_by:
            discarded.extend(Discarded(c.kind, c.text, f"hidden ({link.hidden_by})") for c in kept)
        else:
            found.extend(kept)


def _judge_link(link: Link, shown: str, before: str, line: str, base_url: str, regions: list[str | None],
                found: list[Contact], discarded: list[Discarded]) -> None:
    href = link.href
    scheme = href.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) else ""
    source = line.strip() or shown
    if scheme in ("tel", "callto"):
        number = unquote(href.split(":", 1)[1]).split(",")[0].split(";")[0].strip()
        digits = re.sub(r"\D", "", number)
        if not 6 <= len(digits) <= 15:  # 6: Australia's 13 numbers; shorter are emergency and service codes (000, 111)
            return
        text = _clip(shown if re.sub(r"\D", "", shown).endswith(digits[-4:]) else number)
        label = label_of(before, line[len(before) + len(link.words):][:20])
        if label:
            discarded.append(Discarded("phone", text, f"labelled {label}"))
        else:
            found.append(Contact("phone", text, href, source, _e164(number, regions)))
        return
    if scheme == "sms":
        found.append(Contact("sms", _clip(unquote(href[4:]).split("?")[0].split(",")[0] or shown), href, source))
        return
    for app, pattern in words.MESSAGING:
        if pattern.search(href):
            found.append(Contact("messaging", _clip(f"{app}: {shown}" if shown else app), href, source))
            return
    if scheme == "mailto":
        address = unquote(href[7:].split("?")[0]).split(",")[0].strip()
        if "@" in address:
            _email(address, href, line, found, discarded)
        return
    said = f"{link.words} {link.label}".strip()
    usable = scheme in ("", "http", "https") and href not in ("", "#") and not href.startswith("#")
    if words.CHAT_WORDS.search(link.words) or words.CHAT_WORDS.search(link.label):
        found.append(Contact("chat", shown or "chat", _absolute(base_url, href) if usable else None, source))
        return
    if link.tag != "a" or not usable:
        return
    path = _path(href)
    look_alike = words.LOOK_ALIKES.search(said) or words.LOOK_ALIKES.search(path)
    by_words = words.CONTACT_WORDS.search(said) or words.SUPPORT_ALONE.match(said)
    if (by_words or words.CONTACT_PATHS.search(path)) and not look_alike:
        found.append(Contact("contact_page", shown or _clip(path), _absolute(base_url, href), source))
    elif look_alike or re.search(r"contact|support", said + path, re.IGNORECASE):
        discarded.append(Discarded("contact_page", shown or _clip(path), "only looks like a contact link"))


def _judge_widgets(page: Page, found: list[Contact]) -> None:
    signals = "\n".join(page.signals)
    for name, signatures in words.CHAT_PROVIDERS:
        hit = next((s for s in signatures if s in signals), None)
        if hit:
            label = name if "chat" in name.lower() else f"{name} chat"
            found.append(Contact("chat", label, None, f"{_WIDGET_SOURCE}{name} ({hit})"))


def _judge_chat(page: Page, found: list[Contact], discarded: list[Discarded]) -> None:
    """Take out chats the page itself calls automated ("our virtual assistant", "no live agents")."""
    if not any(c.kind == "chat" for c in found):
        return
    text = page.text
    human = bool(words.HUMAN_CHAT.search(text)) and not words.NO_HUMAN.search(text)
    # A sentence about the chat ("Ask Kiri, our virtual assistant"), not any bot ("reCAPTCHA keeps bots out").
    bot_line = next((line.strip() for line in text.split("\n") if words.CHAT_CONTEXT.search(line)
                     and (words.BOT.search(line) or words.NO_HUMAN.search(line))), None)
    for contact in [c for c in found if c.kind == "chat"]:
        widget = contact.href is None and contact.source.startswith(_WIDGET_SOURCE)
        own = contact.text if widget else f"{contact.text} {contact.source}"
        own_bot = words.BOT.search(own) and not (words.HUMAN_CHAT.search(own) and not words.NO_HUMAN.search(own))
        if own_bot or (bot_line and not human):
            found.remove(contact)
            why = _clip(own.strip() if own_bot else bot_line or "", 60)
            discarded.append(Discarded("chat", contact.text, f"the page says it is automated (“{why}”)"))


def _judge_hidden(page: Page, regions: list[str | None], found: list[Contact], discarded: list[Discarded]) -> None:
    """Hidden numbers and addresses are only explained: "0800 123 4567: hidden (display:none)"."""
    for text, why in page.hidden_text:
        for candidate in phones_in_line(text, regions[0]):
            if candidate.reason is None:
                discarded.append(Discarded("phone", _clip(candidate.text), f"hidden ({why})"))
        if "@" in text:
            for match in words.EMAIL.finditer(text):
                discarded.append(Discarded("email", _clip(match.group().rstrip(".")), f"hidden ({why})"))


# -- small helpers ----------------------------------------------------------------------------------------------

def _e164(number: str, regions: list[str | None]) -> str:
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region or "ZZ")
        except phonenumbers.NumberParseException:
            continue
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"\D", "", number)


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
        return contact.number or re.sub(r"\D", "", contact.text)
    if contact.kind == "email":
        return contact.text.lower()
    return (contact.href or contact.text).lower()


def _dedupe_discarded(discarded: list[Discarded], found: list[Contact]) -> list[Discarded]:
    counted = {(c.kind, re.sub(r"\W", "", c.text.lower())) for c in found}
    unique: dict[tuple[str, str], Discarded] = {}
    for item in discarded:
        key = (item.kind, re.sub(r"\W", "", item.text.lower()))
        if key not in counted and key not in unique:
            unique[key] = item
    return list(unique.values())


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


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


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
