"""Public holidays of a practice's country and region, from the ``holidays`` package: which regions a
country has (for the settings page), whether a region is one of them, and the calendar BusinessHours asks.

A country the package does not know, or none at all, has no public holidays here: business hours then
work as they did before, rather than failing. Knows nothing of the database.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from partnermon.errors import ValidationError

if TYPE_CHECKING:
    from holidays import HolidayBase


@lru_cache(maxsize=1)
def _supported() -> dict[str, list[str]]:
    import holidays   # here, not at the top: every importer of business hours would pay for it

    return holidays.list_supported_countries()


def has_holidays(country: str) -> bool:
    return bool(country) and country in _supported()


@lru_cache(maxsize=64)
def regions(country: str) -> tuple[tuple[str, str], ...]:
    """The country's subdivisions as (code, name), by name ("ENG", "England"); empty when it has none."""
    if not has_holidays(country):
        return ()
    import holidays

    names: dict[str, str] = {}
    # The package lists names as aliases of codes, the English name first; a code without one is its own name.
    for name, code in getattr(holidays.country_holidays(country), "subdivisions_aliases", {}).items():
        names.setdefault(code, name)
    return tuple(sorted(((code, names.get(code, code)) for code in _supported()[country]),
                        key=lambda item: item[1].casefold()))


def clean_region(value: str | None, country: str) -> str:
    """A region code of ``country`` ("eng" is ENG); empty means the national holidays only. Raises
    ValidationError naming the field ``region``."""
    code = (value or "").strip()
    if not code:
        return ""
    known = {known.upper(): known for known, _name in regions(country)}
    if code.upper() not in known:
        where = f"{country}'s regions" if regions(country) else "the regions of the practice's country"
        raise ValidationError({"region": f"Choose a region from the list of {where}, or the whole country. "
                                         f"“{code[:30]}” is not one of them."})
    return known[code.upper()]


def calendar(country: str, region: str = "") -> HolidayBase | None:
    """The public holidays of ``country`` (and ``region``), filled in lazily a year at a time as dates are
    asked about; None where the package knows no holidays for the country. Observed days (a holiday falling
    on a Saturday, taken on the Monday) are days off, so they are in it."""
    if not has_holidays(country):
        return None
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=region or None)
    except NotImplementedError:
        # A region the package no longer knows (it renamed one, say): the national holidays still count.
        return holidays.country_holidays(country)


def between(country: str, region: str, first: date, last: date) -> list[tuple[date, str]]:
    """The public holidays from ``first`` to ``last`` (both included), by date, for showing."""
    days = calendar(country, region)
    if days is None:
        return []
    span = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [(day, days.get(day) or "") for day in span if day in days]
