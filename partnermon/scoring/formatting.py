"""How a score is written for people, in one place (pages, emails, the PDF): a value at a fixed number of
digits, an interval that never collapses to one point, and as many digits as a comparison with a limit
needs to read true ("99.46 %, below the limit of 99.5 %", never "99.5 %, below the limit of 99.5 %").

Plain functions on floats; the scoring objects call them (``Estimate``, ``Breach``), templates call those.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Digits added at most to tell two numbers apart; beyond that they are as good as equal.
MAX_EXTRA_DIGITS = 3
# The export carries every figure to this many decimals in the units a page shows it in (scores as they are,
# shares as percentages: partnermon.scoring.exports). A page rounds from that same value, half up as people
# do, so a page's "0.4" is what anyone gets by rounding the export's 0.35 — never "0.3" from 0.34999….
EXPORTED_DIGITS = 4


def fixed(value: float, digits: int) -> str:
    exported = Decimal(repr(round(value, EXPORTED_DIGITS)))
    text = f"{exported.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):f}"
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text   # never "-0"


def trimmed(value: float, digits: int) -> str:
    """``value`` at ``digits`` without trailing zeros: 99.60 → "99.6", 100.00 → "100"."""
    text = fixed(value, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text


def interval_digits(low: float, high: float, digits: int) -> int:
    """The digits needed so that an interval that is not a point does not read as one: "100 (100–100)"
    becomes "100 (99.95–100)"."""
    d = digits
    while low < high and fixed(low, d) == fixed(high, d) and d < digits + MAX_EXTRA_DIGITS:
        d += 1
    return d


def interval(low: float, high: float, digits: int, sep: str = "–") -> str:
    """The bounds of an interval, widened where they would round to one point (extra digits trimmed)."""
    d = interval_digits(low, high, digits)
    if d == digits:
        return f"{fixed(low, d)}{sep}{fixed(high, d)}"
    return f"{trimmed(low, d)}{sep}{trimmed(high, d)}"


def compare_digits(value: float, limit: float, breached: bool, digits: int) -> int:
    """The fewest digits (from ``digits``) at which ``value`` and ``limit``, both rounded, compare as the
    unrounded numbers do: different when the value breaches the limit, and never "equal" read as a breach.

    ``breached`` is the comparison's verdict on the raw numbers; the rounded value must differ from the
    rounded limit exactly when it breaches (on the wrong side) — or be shown equal when it does not."""
    d = digits
    while d < digits + MAX_EXTRA_DIGITS:
        shown, shown_limit = float(fixed(value, d)), float(fixed(limit, d))
        if breached and shown != shown_limit:
            return d
        if not breached and (shown == shown_limit or (shown > shown_limit) == (value > limit)):
            return d
        d += 1
    return d


def percent(value: float, digits: int = 0) -> str:
    """A share 0–1 as "23 %"."""
    return f"{fixed(value * 100, digits)} %"


def percent_pair(before: float, after: float, digits: int = 0) -> tuple[str, str]:
    """Two shares written so that different ones do not read the same ("15 % to 39 %", "15.2 % to 15.4 %")."""
    d = digits
    while before != after and fixed(before * 100, d) == fixed(after * 100, d) and d < digits + MAX_EXTRA_DIGITS:
        d += 1
    return percent(before, d), percent(after, d)
