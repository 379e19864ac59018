"""Checks for values people type. Each returns the clean value or raises ValidationError for one field."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from partnermon.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


def timezone(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if not value or value not in available_timezones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({field: f"“{value[:60]}” is not a time zone; use a name like Europe/London."}) from None
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
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({field: "Use a full web address starting with http:// or https://."})
    return value


def whole_number(field: str, value: str | int | None, *, minimum: int = 0, maximum: int = 10_000_000,
                 default: int | None = None, label: str | None = None) -> int:
    label = label or field.replace("_", " ").capitalize()
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise ValidationError({field: f"{label} is required."})
    try:
        number = int(str(value).strip().replace(",", ""))
    except ValueError:
        raise ValidationError({field: f"{label} must be a whole number."}) from None
    if not minimum <= number <= maximum:
        raise ValidationError({field: f"{label} must be between {minimum:,} and {maximum:,}."})
    return number


def clock_time(field: str, value: str | None, label: str) -> int:
    """'09:30' → minutes after midnight."""
    match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*$", value or "")
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or (int(match[1]) == 24 and int(match[2])):
        raise ValidationError({field: f"{label} must be a time like 09:00."})
    return int(match[1]) * 60 + int(match[2])


def choice(field: str, value: str | None, options: dict[str, str] | tuple[str, ...], label: str | None = None) -> str:
    value = (value or "").strip()
    if value not in options:
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
