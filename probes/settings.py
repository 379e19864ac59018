"""Reading the settings someone typed for a probe: the error a kind raises, and the readings kinds share.

Each kind cleans its own options (``ProbeKind.clean_options``) and raises ``SettingsError`` naming every field
it cannot read; partnermon turns that into the field errors of its form, command line and API. The readings
here are the product's only ones for these values: ``partnermon.validators.whole_number`` is ``whole_number``.
"""

from __future__ import annotations

import re
from typing import Any

# ASCII digits only (int() also takes "٣"), thousands commas and a sign; bounded, as int() refuses
# more than 4,300 digits and no setting needs 25.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9][0-9,]{0,24}")


class SettingsError(ValueError):
    """Settings that cannot be used. ``errors`` maps a field name to a sentence saying why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def lines(value: Any) -> list[str]:
    """A list typed one item per line (or given as a list), without blank items."""
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value if str(item).strip()]
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def whole_number(field: str, value: str | int | None, *, minimum: int = 0, maximum: int = 10_000_000,
                 default: int | None = None, label: str | None = None) -> int:
    """A whole number typed in ASCII digits (thousands commas and a sign allowed), within [minimum, maximum]."""
    label = label or field.replace("_", " ").capitalize()
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise SettingsError({field: f"{label} is required."})
    raw = str(value).strip()
    if not _WHOLE_NUMBER.fullmatch(raw):
        if len(raw) > 25 and raw.isascii() and raw.lstrip("+-").replace(",", "").isdigit():
            raise SettingsError({field: f"{label} must be between {minimum:,} and {maximum:,}."})
        raise SettingsError({field: f"{label} must be a whole number written with the digits 0–9."})
    number = int(raw.replace(",", ""))
    if not minimum <= number <= maximum:
        raise SettingsError({field: f"{label} must be between {minimum:,} and {maximum:,}."})
    return number
