"""Checks a practice owner attaches to a probe: a small assertion language, parsed without ``eval``.

One check is ``subject operator value``, for example::

    [STATUS] == 200                     [STATUS] in (200, 302)
    [RESPONSE_TIME] < 1500              [RESPONSE_TIME] < 2s
    [BODY] contains "Lodge a claim"     [BODY] not contains "Service unavailable"
    [BODY] matches "0800 ?\\d{3} ?\\d{3}" [HEADER:Content-Type] contains "html"
    [CERTIFICATE_EXPIRATION] > 14d      [BODY].status == "UP"
    len([BODY].items) > 0               [BODY].data[0]."odd key" != null

Subjects: ``[STATUS]`` (a number; null when nothing answered), ``[RESPONSE_TIME]`` (milliseconds),
``[BODY]`` (text), ``[HEADER:Name]`` (text; the name is case-insensitive, repeated headers are joined with
", ", a missing header is null), ``[CERTIFICATE_EXPIRATION]`` (time left; negative once expired, null when
not https), ``[BODY].a.b[0]."odd key"`` (the body parsed as JSON, once per Subject), ``len(x)`` (characters
of text, items of a list or keys of an object).

Values: integers, decimals, "text" or 'text', true / false / null, durations 500ms 45s 30m 12h 14d (in
milliseconds against [RESPONSE_TIME]), and tuples ``(200, 302)`` after ``in`` / ``not in``. In text the
escapes are \\", \\', \\\\ and JSON's \\n \\t \\r \\uXXXX (so ``json.dumps(text)`` is a valid literal); any
other backslash is kept as typed, so regular expressions need no doubling: "0800 ?\\d{3}".

Operators: == != < <= > >= (numbers only), in / not in, contains / not contains (case-sensitive: for text a
substring, for a JSON list an element, for a JSON object a key), matches / not matches (a search anywhere in
the text on RE2: no look-around or backreferences, ``\\w`` and ``\\d`` are ASCII; case-sensitive unless the
pattern starts with ``(?i)``). Keywords and operand names are case-insensitive.

Typing is strict: ``"200"`` is not ``200`` and ``true`` is not ``1`` (a header compared with a number is
read as a number). A check that cannot be judged — body not JSON, missing key, missing header with
``contains`` — fails with a description saying why. ``evaluate`` never raises, and descriptions carry at
most ~60 characters of page text because they are stored with every result.

This module must not import partnermon, evaluate Python, or touch the network; parsing lives in
probes.assertion_parser and user regular expressions in probes.user_regex.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from probes.assertion_parser import AssertionSyntaxError, Comparison, Operand, parse_comparison

__all__ = ["Assertion", "AssertionSyntaxError", "Subject", "Verdict", "evaluate_all", "parse", "parse_all"]

# Page text quoted in a description is cut to this: descriptions are stored with every probe result.
SHOWN_TEXT_CHARS = 60
# The check's own text, as shown in descriptions (checks can be 1,000 characters long).
SHOWN_SOURCE_CHARS = 160

_NOT_JSON = object()


@dataclass
class Subject:
    """What an assertion looks at; built by the probe kinds from a fetch response."""

    status: int | None = None
    response_time_ms: float | None = None
    body: str = ""
    headers: Sequence[tuple[str, str]] = ()
    certificate_seconds_left: float | None = None
    # The kinds of contact the human-contact check found ([] for none); None when it did not judge the page.
    human_contact: Sequence[str] | None = None

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case); repeated headers joined with ", " as HTTP allows."""
        wanted = name.lower()
        values = [value for key, value in self.headers if key.lower() == wanted]
        return ", ".join(values) if values else None

    def json_body(self) -> Any:
        """The body parsed as JSON, or ``_NOT_JSON``; parsed once however many checks look at it."""
        cached = self.__dict__.get("_json_cache")
        if cached is not None and cached[0] is self.body:  # keyed on the body, in case someone replaces it
            return cached[1]
        try:
            parsed = json.loads(self.body.lstrip("\ufeff"))
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            parsed = _NOT_JSON
        self.__dict__["_json_cache"] = (self.body, parsed)
        return parsed


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str


class _Problem:
    """Why the operand has no value to compare: "body is not JSON", "header missing"..."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Assertion:
    """A parsed check: immutable, and safe to share between threads and reuse across runs."""

    __slots__ = ("_comparison", "_shown", "source")

    def __init__(self, source: str, comparison: Comparison) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "_comparison", comparison)
        # As typed (spaces inside "quoted text" matter), on one line, and cut if very long.
        shown = " ".join(source.splitlines())
        if len(shown) > SHOWN_SOURCE_CHARS:
            shown = shown[: SHOWN_SOURCE_CHARS - 1] + "…"
        object.__setattr__(self, "_shown", shown)

    source: str
    _comparison: Comparison
    _shown: str

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an Assertion is immutable")

    def __repr__(self) -> str:
        return f"Assertion({self.source!r})"

    def __str__(self) -> str:
        return self.source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Assertion) and other._comparison == self._comparison

    def __hash__(self) -> int:
        return hash(self._comparison)

    def uses_body(self) -> bool:
        return self._comparison.operand.name == "BODY"

    def evaluate(self, subject: Subject) -> Verdict:
        try:
            passed, detail = _evaluate(self._comparison, subject)
        except Exception as exc:  # noqa: BLE001 - a worker must record a result whatever the page held
            passed, detail = False, f"could not be evaluated: {type(exc).__name__}"
        return Verdict(passed, f"{self._shown} ({detail})")


def parse(expression: str) -> Assertion:
    """Parse one check; raises AssertionSyntaxError with the position and what was expected."""
    if not isinstance(expression, str):
        raise TypeError(f"an assertion is text, not {type(expression).__name__}")
    return Assertion(expression.strip(), parse_comparison(expression))


def parse_all(expressions: Iterable[str]) -> list[Assertion]:
    """Parse a probe's checks; the first error is raised with "check N: " (1-based) in front."""
    if isinstance(expressions, str):  # a lone string would be parsed character by character
        raise TypeError("parse_all takes a list of checks, not one string")
    parsed = []
    for number, expression in enumerate(expressions, 1):
        try:
            parsed.append(parse(expression))
        except AssertionSyntaxError as exc:
            raise exc.for_check(number) from None
    return parsed


def evaluate_all(assertions: Iterable[Assertion], subject: Subject) -> list[Verdict]:
    return [assertion.evaluate(subject) for assertion in assertions]


# -- evaluation ----------------------------------------------------------------------------------------


def _evaluate(comparison: Comparison, subject: Subject) -> tuple[bool, str]:
    operand, operator, expected = comparison.operand, comparison.operator, comparison.value
    actual = _value_of(operand, subject)
    if isinstance(actual, _Problem):
        return False, actual.reason
    negated = operator.startswith("not ")
    # A header compared with a number is read as one ("Content-Length: 512"); JSON "200" stays text.
    coerce = operand.name == "HEADER" and not operand.length
    if operator in ("==", "!="):
        passed = _equal(actual, expected, coerce)
        return passed == (operator == "=="), _was(operand, actual)
    if operator in ("in", "not in"):
        passed = any(_equal(actual, option, coerce) for option in expected)
        return passed != negated, _was(operand, actual)
    if actual is None:
        return False, _was(operand, actual)
    if operator in ("<", "<=", ">", ">="):
        number = _as_number(actual, coerce)
        if number is None:
            return False, f"{_was(operand, actual)}, not a number"
        passed = {"<": number < expected, "<=": number <= expected,
                  ">": number > expected, ">=": number >= expected}[operator]
        return passed, _was(operand, actual)
    if operator.endswith("contains"):
        found = _contains(actual, expected)
        if found is None:
            return False, f"{_was(operand, actual)}, not text, a list or an object"
        if operand.name == "HEADER" and found == negated:  # header values are short: show what it was
            return False, _was(operand, actual)
        return found != negated, "found" if found else "not found"
    # matches / not matches
    if not isinstance(actual, str):
        return False, f"{_was(operand, actual)}, not text"
    assert comparison.pattern is not None
    match = comparison.pattern.search(actual)
    detail = f"matched {_clip(match.group())}" if match else "no match"
    return (match is not None) != negated, detail


def _value_of(operand: Operand, subject: Subject) -> Any:
    name = operand.name
    if name == "STATUS":
        return subject.status
    if name == "RESPONSE_TIME":
        return subject.response_time_ms
    if name == "CERTIFICATE_EXPIRATION":
        return subject.certificate_seconds_left
    if name == "HUMAN_CONTACT":
        kinds = subject.human_contact
        if kinds is None:
            return None
        return operand.path[0] in kinds if operand.path else bool(kinds)
    if name == "HEADER":
        assert operand.header is not None
        value: Any = subject.header(operand.header)
        if operand.length:
            return _Problem("header missing") if value is None else len(value)
        return value
    if not operand.path:
        return len(subject.body) if operand.length else subject.body
    value = _follow(operand, subject.json_body())
    if operand.length and not isinstance(value, _Problem):
        if not isinstance(value, (str, list, dict)):
            return _Problem(f"{operand.base_text()} is {_json_type(value)}, which has no length")
        return len(value)
    return value


def _follow(operand: Operand, document: Any) -> Any:
    if document is _NOT_JSON:
        return _Problem(f"{operand.base_text()}: body is not JSON")
    value = document
    for steps, step in enumerate(operand.path, 1):
        here = operand.base_text(steps)
        if isinstance(step, int):
            if not isinstance(value, list):
                return _Problem(f"{here}: no such index; {operand.base_text(steps - 1)} is {_json_type(value)}")
            if not -len(value) <= step < len(value):
                return _Problem(f"{here}: no such index; the list has {len(value)} items")
            value = value[step]
        else:
            if not isinstance(value, dict):
                return _Problem(f"{here}: no such key; {operand.base_text(steps - 1)} is {_json_type(value)}")
            if step not in value:
                return _Problem(f"{here}: no such key")
            value = value[step]
    return value


def _equal(actual: Any, expected: Any, coerce: bool) -> bool:
    # Strict: True is not 1 and "200" is not 200 (unless ``coerce``: a header meeting a number).
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    number = _as_number(actual, coerce)
    return number is not None and number == expected


def _as_number(value: Any, coerce: bool = False) -> float | int | None:
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    if coerce and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _contains(actual: Any, expected: Any) -> bool | None:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        return any(_equal(item, expected, False) for item in actual)
    if isinstance(actual, dict):
        return isinstance(expected, str) and expected in actual
    return None


def _null_reason(operand: Operand) -> str:
    return {"STATUS": "no HTTP status", "RESPONSE_TIME": "no response time", "HEADER": "header missing",
            "CERTIFICATE_EXPIRATION": "no certificate: not https",
            "HUMAN_CONTACT": "not judged: the human-contact check did not read this answer as a web page",
            }.get(operand.name, "was null")


def _was(operand: Operand, value: Any) -> str:
    """The actual value for a description, never more than SHOWN_TEXT_CHARS of page text."""
    if value is None and (not operand.path or operand.name == "HUMAN_CONTACT"):
        return _null_reason(operand)
    if operand.name == "CERTIFICATE_EXPIRATION" and value < 0:
        return f"expired {_duration(-value)} ago"
    return f"was {_show(operand, value)}"


def _show(operand: Operand, value: Any) -> str:
    if value is None:
        return "null"
    if operand.length:
        return str(value)
    if operand.name == "RESPONSE_TIME":
        return f"{value:,.0f} ms"
    if operand.name == "CERTIFICATE_EXPIRATION":
        return _duration(value)
    if operand.path:
        if isinstance(value, str):
            return _clip(value)
        return _clip(json.dumps(value, ensure_ascii=False)[: SHOWN_TEXT_CHARS * 2], quote=False)
    if isinstance(value, str):
        return _clip(value)
    return str(value)


def _clip(text: str, limit: int = SHOWN_TEXT_CHARS, quote: bool = True) -> str:
    # Fold white space first (a body is many lines), but only look at a bounded prefix of a 2 MB page.
    flat = " ".join(text[: limit * 4].split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return json.dumps(flat, ensure_ascii=False) if quote else flat


def _duration(seconds: float) -> str:
    """3d 4h, 5h 12m, 40s, 250ms: the two largest units, enough to judge a certificate or a delay."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    rest = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(f"{count}{unit}")
    return " ".join(part for part in parts[:2] if not part.startswith("0"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"
