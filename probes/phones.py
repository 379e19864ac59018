"""Phone numbers in a line of visible text, by libphonenumber's rules for a region (``phonenumbers``).

libphonenumber knows every country's numbering plan: "(02) 9876 5432" and "13 22 65" in Australia,
"021 555 0101" in New Zealand, "1-800-555-0199" in the US, and any "+…" number anywhere. Its matcher is
run at POSSIBLE leniency and each candidate is then judged here, so that what is left out can be explained:

- a number labelled as something else ("Fax:", "Policy number", "ABN", "Sort code") is not for calling;
- a number libphonenumber does not call valid is kept only right after a word such as "Call" or "Phone"
  and when its length is right ("Call 09-123-4567": a New Zealand number in a block not yet allocated);
- a bare run of digits ("01234567890") is kept only after such a word: it could be an account number;
- a number must be written as it is dialled: "1 234 567 890" is not the UK's "01234 567890".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from probes.contact_words import FAX_AFTER, LABEL, LABEL_NAMES, PHONE_CUE

_SUPPORTED = phonenumbers.SUPPORTED_REGIONS
_NEAR = 40                         # a label or cue word counts within this many characters before the number
_SHORT_LINE = 30                   # a line this short just before a number can be its label: <dt>Fax</dt><dd>…
_FIVE_DIGITS = re.compile(r"\d(?:\D{0,3}\d){4}")
_GLUED_BEFORE = re.compile(r"[\w£$€¥#/.:,-]$")
_GLUED_AFTER = re.compile(r"^(?:[\w£$€%]|[.,/:-]\d)")
_SPACED_DASH = re.compile(r"\s[-–—]\s")


@dataclass(frozen=True)
class PhoneCandidate:
    text: str                  # as written on the page
    start: int                 # where in the line
    e164: str                  # +6493790000: one number however it is written
    reason: str | None = None  # why it is not a way to call someone; None when it is


def region_or_none(code: str | None) -> str | None:
    """``code`` upper-cased if libphonenumber knows the region, else None."""
    code = (code or "").strip().upper()
    return code if code in _SUPPORTED else None


def phones_in_line(line: str, region: str | None, previous_line: str = "", limit: int = 1000) -> list[PhoneCandidate]:
    """The phone-number-like runs in ``line`` (at most ``limit``), each kept or given a reason. ``region`` is
    the default for numbers written without a country code (None: only "+…" numbers are read)."""
    if not _FIVE_DIGITS.search(line) or limit <= 0:
        return []
    candidates: list[PhoneCandidate] = []
    last_end = 0
    # max_tries bounds the matcher's own work on a line of digits; ``limit`` bounds how many we judge.
    for match in PhoneNumberMatcher(line, region or "ZZ", leniency=Leniency.POSSIBLE, max_tries=limit):
        if len(candidates) >= limit:
            break
        raw = match.raw_string
        prefix = line[last_end:match.start]
        if not prefix.strip() and match.start == last_end == 0 and len(previous_line.strip()) <= _SHORT_LINE:
            prefix = previous_line.strip() + " "
        last_end = match.end
        e164 = phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
        reason = _reason(match.number, raw, prefix[-_NEAR * 2:], line[match.end:match.end + 20],
                         line[max(match.start - 1, 0):match.start], region)
        candidates.append(PhoneCandidate(raw, match.start, e164, reason))
    return candidates


def label_of(before: str, after: str = "") -> str | None:
    """What ``before`` (the text just before a number) or ``after`` labels it as, if not a phone: "fax" …"""
    if FAX_AFTER.match(after):
        return "fax"
    match = LABEL.search(before[-_NEAR:])
    if match is None:
        return None
    return LABEL_NAMES[int(next(name for name, value in match.groupdict().items() if value is not None)[1:])]


def _reason(number: phonenumbers.PhoneNumber, raw: str, before: str, after: str, char_before: str,
            region: str | None) -> str | None:
    digits = re.sub(r"\D", "", raw)
    # Only the character just before the number: searching the whole line before it made a line of many
    # numbers cost its length squared (a 176 KB line of digits took 39 s).
    if _GLUED_BEFORE.search(char_before) or _GLUED_AFTER.search(after):
        return "part of a longer code"
    label = label_of(before, after)
    if label:
        return f"labelled {label}"
    cued = bool(PHONE_CUE.search(before[-_NEAR:]))
    valid = phonenumbers.is_valid_number(number)
    if not raw.startswith("+") and not _written_as_dialled(number, digits, valid):
        return f"not written as a {region} number is dialled"
    if not re.search(r"\D", raw) and not cued:
        return "digits without spacing and with no word such as “call” or “phone” before them"
    if valid:
        return None
    if cued and not _SPACED_DASH.search(raw) and phonenumbers.is_possible_number(number) and len(digits) >= 7:
        return None  # "Call 09-123-4567": the right length, and offered for calling
    where = phonenumbers.region_code_for_number(number) or region or "any country"
    return f"not a valid number in {where}"


def _written_as_dialled(number: phonenumbers.PhoneNumber, digits: str, valid: bool) -> bool:
    """"1 234 567 890" is GB's 01234 567890 without its trunk 0: no one dials it like that."""
    significant = phonenumbers.national_significant_number(number)
    if digits == f"{number.country_code}{significant}":   # "1-800-555-0199"
        return True
    if valid:
        return digits == re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    # An unallocated number has no national format to compare with: it must at least start with the trunk prefix.
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(number.country_code))
    prefix = metadata.national_prefix if metadata is not None else None
    return not prefix or digits.startswith(prefix)
