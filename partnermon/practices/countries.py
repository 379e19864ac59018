"""A practice's country (ISO 3166-1 alpha-2): which country's rules read a phone number written without
a country code on a partner's page (probes.human_contact).

Its default comes from the practice's time zone, by the IANA time-zone database's own table of zones and
countries (``zone.tab``, else ``zone1970.tab``: Pacific/Auckland → NZ), read from the system's zoneinfo
or the ``tzdata`` package; the names for the settings page come from its ``iso3166.tab``. Where neither
is installed a small table covers the countries partnermon is used in.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path

from partnermon.errors import ValidationError

_FALLBACK_ZONES = {"Pacific/Auckland": "NZ", "Pacific/Chatham": "NZ", "Australia/Sydney": "AU",
                   "Australia/Melbourne": "AU", "Australia/Brisbane": "AU", "Australia/Perth": "AU",
                   "Australia/Adelaide": "AU", "Australia/Hobart": "AU", "Australia/Darwin": "AU",
                   "Europe/London": "GB", "Europe/Dublin": "IE", "America/New_York": "US", "America/Chicago": "US",
                   "America/Denver": "US", "America/Los_Angeles": "US", "America/Toronto": "CA",
                   "America/Vancouver": "CA", "Africa/Johannesburg": "ZA"}
_FALLBACK_NAMES = {"AU": "Australia", "CA": "Canada", "GB": "Britain (UK)", "IE": "Ireland", "NZ": "New Zealand",
                   "US": "United States", "ZA": "South Africa"}
_CODE = re.compile(r"^[A-Z]{2}$")


def _table(name: str) -> str | None:
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            return path.read_text("utf-8", "replace")
    try:
        return resources.files("tzdata").joinpath("zoneinfo", name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None


def _rows(text: str | None) -> list[list[str]]:
    return [line.split("\t") for line in (text or "").splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def zone_countries() -> dict[str, str]:
    zones: dict[str, str] = {}
    for row in _rows(_table("zone1970.tab")):
        if len(row) >= 3:
            zones[row[2]] = row[0].split(",")[0]  # a zone shared by several countries: the first listed
    for row in _rows(_table("zone.tab")):
        if len(row) >= 3:
            zones[row[2]] = row[0]                # zone.tab names exactly one country per zone: it wins
    return zones or dict(_FALLBACK_ZONES)


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    names = {row[0]: row[1] for row in _rows(_table("iso3166.tab")) if len(row) >= 2}
    return names or dict(_FALLBACK_NAMES)


def country_for_timezone(timezone: str) -> str:
    """The country of an IANA time zone ("Pacific/Auckland" → "NZ"); "" for one that has none (UTC)."""
    return zone_countries().get(timezone, "")


def clean_country(value: str | None, timezone: str) -> str:
    """A two-letter code as typed ("nz" is NZ); empty means the time zone's. Raises ValidationError."""
    code = (value or "").strip().upper()
    if not code:
        return country_for_timezone(timezone)
    if not _CODE.match(code) or code not in country_names():
        raise ValidationError({"country": "Choose a country: a two-letter ISO 3166 code such as NZ, AU or GB."})
    return code
