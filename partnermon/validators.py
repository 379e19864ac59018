"""Checks for values people type. Each returns the clean value or raises ValidationError for one field.

One check per kind of value, used by every form, API field, CSV cell and command-line option that takes it:
ids (``as_row_id``), whole numbers (``whole_number``), months (``month``), days (``day``), web addresses (``web_url``) and text
(``text``, which also guards lookups by name or key: PostgreSQL refuses a NUL in any text it is sent).
"""

from __future__ import annotations

import functools
import re
from datetime import date
from zoneinfo import available_timezones

from partnermon.errors import ValidationError
from probes import settings  # the one reading of a whole number, shared with the probes' options
from probes.spec import url_parts  # the one reading of an address, shared with the probes

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Only ASCII digits: Python's int() and \d also take "٣" or "३" (and str.isdigit() "²", which int() refuses).
# Bounded, because int() refuses more than 4,300 digits (ValueError) and no field needs 19.
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# Ids are PostgreSQL INTEGER columns (32-bit): a bigger number is no row, not an error from the database.
MAX_ROW_ID = 2**31 - 1
# The months a period may be: the year after the last has no following month to end it (date tops out at 9999).
FIRST_MONTH, LAST_MONTH = date(2000, 1, 1), date(9998, 12, 1)


def has_control_characters(value: str) -> bool:
    """True when ``value`` holds a character no typed text has: NUL (which PostgreSQL refuses) and the other
    C0 controls and DEL, except tab and line breaks."""
    return bool(_CONTROL.search(value))


def text(field: str, value: str | None, *, required: bool = True, max_length: int = 200,
         label: str | None = None, multiline: bool = False) -> str:
    label = label or field.replace("_", " ").capitalize()
    value = (value or "").strip()
    if not multiline:
        value = " ".join(value.split())
    if _CONTROL.search(value):
        raise ValidationError({field: f"{label} contains control characters."})
    if required and not value:
        raise ValidationError({field: f"{label} is required."})
    if len(value) > max_length:
        raise ValidationError({field: f"{label} must be at most {max_length:,} characters (it has {len(value):,})."})
    return value


def email(field: str, value: str | None, *, required: bool = True) -> str:
    value = (value or "").strip().lower()
    if not value:
        if required:
            raise ValidationError({field: "Email address is required."})
        return ""
    if _CONTROL.search(value):
        # The pattern below would let a NUL through in the part before the @ (and PostgreSQL refuses it).
        raise ValidationError({field: "Email address contains control characters."})
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValidationError({field: f"“{value[:60]}” is not an email address."})
    return value


def slug(field: str, value: str | None) -> str:
    value = (value or "").strip().lower()
    if not _SLUG.match(value):
        raise ValidationError(
            {field: "Use 1–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit."}
        )
    return value


def key(field: str, value: str | None) -> str:
    value = (value or "").strip().lower()
    if not _KEY.match(value):
        raise ValidationError({field: "Use a short key of lowercase letters, digits and underscores, starting with a letter."})
    return value


# Old aliases kept in the time zone database for compatibility ("US/Eastern", "Etc/GMT+5"): accepted if typed on the
# command line, not offered in the lists.
_ALIAS_AREAS = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/", "posix/", "right/")


# The system's time zone database, read once (each call of available_timezones() walks the zoneinfo folders).
_known_timezones = functools.cache(available_timezones)


@functools.cache
def timezone_choices() -> tuple[str, ...]:
    """The time zones every form offers in its list: IANA's Area/Location names (Europe/London), and UTC."""
    return tuple(sorted(["UTC", *(tz for tz in _known_timezones() if "/" in tz and not tz.startswith(_ALIAS_AREAS))]))


def timezone(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if value not in _known_timezones():
        raise ValidationError({field: f"“{value[:60]}” is not a time zone we know. Choose one from the list, "
                                      "such as Europe/London or Pacific/Auckland."})
    return value


def colour(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if not _COLOUR.match(value):
        raise ValidationError({field: "Use a colour like #1f4e79."})
    return value.lower()


def web_url(field: str, value: str | None, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError({field: "URL is required."})
        return None
    if len(value) > 2000:
        raise ValidationError({field: "URL must be at most 2,000 characters."})
    if _CONTROL.search(value) or any(c in value for c in "\t\r\n"):
        raise ValidationError({field: "A web address cannot contain line breaks, tabs or control characters."})
    parts = url_parts(value)
    if parts is None:
        raise ValidationError({field: f"“{value[:60]}” is not a web address that can be read: check the brackets "
                                      "around an IPv6 address and the port number."})
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({field: "Use a full web address starting with http:// or https://."})
    return value


def ascii_number(value: object) -> int | None:
    """``value`` as a number when it is nothing but ASCII digits (at most 18 of them), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    raw = str(value if value is not None else "").strip()
    return int(raw) if _ASCII_DIGITS.fullmatch(raw) else None


def as_row_id(value: object) -> int | None:
    """The id in ``value`` (a form field, URL part, JSON number or CSV cell) if it can name a row: ASCII digits
    from 1 to 2³¹−1. Anything else names no row, so a lookup with it finds nothing rather than failing."""
    number = ascii_number(value)
    return number if number is not None and 1 <= number <= MAX_ROW_ID else None


def looks_like_id(value: object) -> bool:
    """True for a reference written as a number (``"12"``, a JSON 12): it is looked up as an id, even when it is
    too big to be one (then nothing is found), never as a name."""
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return bool(re.fullmatch(r"[0-9]+", str(value or "").strip()))


def whole_number(field: str, value: str | int | None, *, minimum: int = 0, maximum: int = 10_000_000,
                 default: int | None = None, label: str | None = None) -> int:
    """A whole number typed in ASCII digits (thousands commas and a sign allowed), within [minimum, maximum].
    The reading is the probes' own (a kind's options are whole numbers too), so both say the same."""
    try:
        return settings.whole_number(field, value, minimum=minimum, maximum=maximum, default=default, label=label)
    except settings.SettingsError as exc:
        raise ValidationError(exc.errors) from None


def month(field: str, value: str | None) -> date:
    """``YYYY-MM`` (ASCII digits) as the month's first day, from 2000-01 to 9998-12 (so the month after it, which
    ends a period, exists too). Whether the month may be in the future is the caller's business."""
    raw = (value or "").strip()
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError({field: f"“{raw[:20]}” is not a month: write it as YYYY-MM, e.g. 2026-11."})
    if not FIRST_MONTH.year <= int(match[1]) <= LAST_MONTH.year:   # before date(): it refuses year 0
        raise ValidationError({field: f"{raw} is out of range: choose a month from {FIRST_MONTH:%Y-%m} "
                                      f"to {LAST_MONTH:%Y-%m}."})
    return date(int(match[1]), int(match[2]), 1)


def day(field: str, value: str | None, label: str = "Date") -> date:
    """``YYYY-MM-DD`` (ASCII digits; what a date input sends) as a date, in the same years as ``month``.
    Whether the day may be in the past is the caller's business."""
    raw = (value or "").strip()
    match = _DAY.fullmatch(raw)
    if not match:
        raise ValidationError({field: f"{label}: “{raw[:20]}” is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24."
                               if raw else f"{label} is required: write it as YYYY-MM-DD, e.g. 2026-12-24."})
    year, month_number, day_number = int(match[1]), int(match[2]), int(match[3])
    if not FIRST_MONTH.year <= year <= LAST_MONTH.year:
        raise ValidationError({field: f"{label}: {raw} is out of range; choose a year from {FIRST_MONTH.year} "
                                      f"to {LAST_MONTH.year}."})
    try:
        return date(year, month_number, day_number)
    except ValueError:
        raise ValidationError({field: f"{label}: {raw} is not a day of the calendar (check the month and the day)."}
                              ) from None


def clock_time(field: str, value: str | None, label: str) -> int:
    """'09:30' → minutes after midnight."""
    match = re.match(r"^\s*([0-9]{1,2}):([0-9]{2})\s*$", value or "")
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or (int(match[1]) == 24 and int(match[2])):
        raise ValidationError({field: f"{label} must be a time like 09:00."})
    return int(match[1]) * 60 + int(match[2])


def choice(field: str, value: str | None, options: dict[str, str] | tuple[str, ...], label: str | None = None) -> str:
    value = (value or "").strip()
    if not isinstance(value, str) or value not in options:
        names = ", ".join(options)
        raise ValidationError({field: f"{label or field.capitalize()} must be one of: {names}."})
    return value


class Form:
    """Runs several field checks and gathers every error, so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            self.errors.update(exc.errors)
            return None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ValidationError(dict(self.errors))
