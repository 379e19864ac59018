"""Durations as people write them: "3 days", "2 weeks", "45 minutes", "1h30", "an hour", "1 day 4 hours",
"2 working days". One explicit grammar (no dependency): a number (or "a"/"an"/"half an") followed by a unit,
repeated; "1h30" and "2:30" read as hours and minutes. Business or working days count as days: the form
asks how long it took, and a client's "3 working days" is at least three days of waiting.

Used by the client's "How long did it take?" answer and by a promise's target. Pure: no database.
"""

from __future__ import annotations

import re

from partnermon.errors import ValidationError

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 7 * 86400
# The longest duration anyone will be asked about; beyond it an answer is a typo, not a wait.
LONGEST = 366 * DAY
MAX_TEXT = 60
_UNITS: dict[str, int] = {}
for _names, _seconds in ((("m", "min", "mins", "minute", "minutes"), MINUTE),
                         (("h", "hr", "hrs", "hour", "hours"), HOUR),
                         (("d", "day", "days"), DAY),
                         (("w", "wk", "wks", "week", "weeks"), WEEK)):
    for _name in _names:
        _UNITS[_name] = _seconds
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)$")                    # 2:30 → 2 h 30 min
_HOURS_MINUTES = re.compile(r"^(\d{1,3})\s*h\s*(\d{1,2})$")      # 1h30 → 1 h 30 min
_PART = re.compile(r"(\d+(?:[.,]\d+)?|an?|half an?|half a)\s*(?:(?:business|working)\s+)?([a-z]+)")
_NOISE = re.compile(r"\b(and|about|around|roughly|approximately|approx|over|almost|nearly|just|it|took)\b|[~,+]")

HOW_TO = 'Write how long it took with a unit, e.g. "45 minutes", "3 days", "2 weeks" or "1h30".'


def parse(field: str, text: str | None, *, label: str = "How long it took") -> int | None:
    """Seconds from what someone wrote; None when they wrote nothing. Raises ValidationError naming ``field``
    with an example of what is understood when it is not a duration, or not a sensible one."""
    raw = " ".join((text or "").split()).lower()
    if not raw:
        return None
    if len(raw) > MAX_TEXT:
        raise ValidationError({field: f"{label}: keep it short (at most {MAX_TEXT} characters). {HOW_TO}"})
    seconds = _seconds(raw)
    if seconds is None:
        raise ValidationError({field: f"{label}: “{text.strip() if text else ''}” is not a duration we understand. {HOW_TO}"})
    if seconds <= 0:
        raise ValidationError({field: f"{label} must be longer than zero. {HOW_TO}"})
    if seconds > LONGEST:
        raise ValidationError({field: f"{label} must be at most a year. {HOW_TO}"})
    return int(round(seconds))


def _seconds(raw: str) -> float | None:
    for pattern in (_CLOCK, _HOURS_MINUTES):
        match = pattern.match(raw)
        if match:
            return int(match.group(1)) * HOUR + int(match.group(2)) * MINUTE
    text = _NOISE.sub(" ", raw)
    text = " ".join(text.split())
    if not text:
        return None
    total = 0.0
    position = 0
    for match in _PART.finditer(text):
        if text[position:match.start()].strip():
            return None          # something between the parts that is not a duration
        amount, unit = match.group(1), match.group(2)
        if unit not in _UNITS:
            return None
        total += _amount(amount) * _UNITS[unit]
        position = match.end()
    if position == 0 or text[position:].strip():
        return None
    return total


def _amount(word: str) -> float:
    if word in ("a", "an"):
        return 1.0
    if word.startswith("half"):
        return 0.5
    return float(word.replace(",", "."))


def describe(seconds: float) -> str:
    """A duration in the largest units that say it exactly enough: "2 days", "1 h 30 min", "45 min"."""
    seconds = int(round(seconds))
    if seconds % WEEK == 0 and seconds >= WEEK:
        weeks = seconds // WEEK
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    if seconds >= 2 * DAY:
        days, rest = divmod(seconds, DAY)
        hours = round(rest / HOUR)
        return f"{days} days" + (f" {hours} h" if hours else "")
    if seconds >= DAY and seconds % DAY == 0:
        return "1 day"
    if seconds >= HOUR:
        hours, rest = divmod(seconds, HOUR)
        minutes = round(rest / MINUTE)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    minutes = max(1, round(seconds / MINUTE))
    return f"{minutes} min"
