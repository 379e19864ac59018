"""Parsing the probe assertion language (see probes.assertions for the language and the public API).

Practice owners type these expressions in a form or on the command line, so the parser is written by
hand over characters — never ``eval``, ``ast`` or a templating engine — and accepts exactly one shape:

    subject operator value

where the subject is an operand (``[STATUS]``, ``[BODY].items[0]``, ``len([BODY].items)``) and the value a
literal or a tuple of literals. Everything else, ``__import__("os")`` included, is an
``AssertionSyntaxError`` that says where and what was expected. Types that cannot work are refused here
(``[STATUS] contains 5``) so the form can say so at once instead of every probe run failing later.
Regular expressions are compiled here, once, on RE2 (probes.user_regex), and refused when too long, too
complex or needing a feature RE2 lacks.
Nothing here evaluates anything or touches the network.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from probes.human_contact import KIND_ORDER as HUMAN_CONTACT_KINDS
from probes.user_regex import PatternError, UserPattern, compile_pattern

MAX_EXPRESSION_CHARS = 1000
MAX_PATTERN_CHARS = 500

KNOWN_OPERANDS = "[STATUS], [RESPONSE_TIME], [BODY], [HEADER:Name], [CERTIFICATE_EXPIRATION], [HUMAN_CONTACT]"
_OPERAND_NAMES = ("STATUS", "RESPONSE_TIME", "BODY", "HEADER", "CERTIFICATE_EXPIRATION", "HUMAN_CONTACT")

EQUALITY = ("==", "!=", "in", "not in")
ORDERING = ("<", "<=", ">", ">=")
TEXTUAL = ("contains", "not contains", "matches", "not matches")
_ALL_OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in") + TEXTUAL

# Durations are kept in seconds until we know what they are compared with ([RESPONSE_TIME] is in ms).
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # bare JSON keys may contain "-": there is no subtraction
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_TOKEN = re.compile(r'"[^"]*"?|\'[^\']*\'?|[=!<>]=?|\S')  # for "found ..." in messages
_INDEX = re.compile(r"-?\d+")
_UNICODE_ESCAPE = re.compile(r"u[0-9a-fA-F]{4}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


@dataclass(frozen=True)
class _Kind:
    """What one sort of subject supports: its operators and, per operator group, the literal kinds."""

    noun: str
    operators: tuple[str, ...]
    equal: frozenset[str]
    order: frozenset[str] = frozenset()
    contains: frozenset[str] = frozenset()


_ANY = frozenset({"number", "string", "bool", "null"})
_KINDS = {
    "STATUS": _Kind("a number", EQUALITY + ORDERING, frozenset({"number", "null"}), frozenset({"number"})),
    "RESPONSE_TIME": _Kind("a number of milliseconds", EQUALITY + ORDERING,
                           frozenset({"number", "duration", "null"}), frozenset({"number", "duration"})),
    "BODY": _Kind("text", EQUALITY + TEXTUAL, frozenset({"string"}), contains=frozenset({"string"})),
    # Headers are text, but "[HEADER:Content-Length] < 50000" is reasonable: numbers are converted when run.
    "HEADER": _Kind("text", EQUALITY + ORDERING + TEXTUAL, frozenset({"string", "number", "null"}),
                    frozenset({"number"}), frozenset({"string"})),
    "CERTIFICATE_EXPIRATION": _Kind("a duration", EQUALITY + ORDERING, frozenset({"duration", "null"}),
                                    frozenset({"duration"})),
    # [HUMAN_CONTACT] and [HUMAN_CONTACT].phone: whether the page offers a person (or that kind of contact).
    "HUMAN_CONTACT": _Kind("true or false", EQUALITY, frozenset({"bool", "null"})),
    "JSON": _Kind("a JSON value", EQUALITY + ORDERING + TEXTUAL, _ANY, frozenset({"number"}), _ANY),
    "LENGTH": _Kind("a number", EQUALITY + ORDERING, frozenset({"number"}), frozenset({"number"})),
}
_KIND_PHRASES = {
    frozenset({"number", "null"}): "a number or null",
    frozenset({"number"}): "a number",
    frozenset({"number", "duration"}): "a number of milliseconds or a duration such as 2s",
    frozenset({"number", "duration", "null"}): "a number of milliseconds or a duration such as 2s",
    frozenset({"string"}): 'text in double quotes, such as "OK"',
    frozenset({"string", "number", "null"}): "text in double quotes, a number or null",
    frozenset({"duration"}): "a duration such as 14d",
    frozenset({"duration", "null"}): "a duration such as 14d, or null",
    _ANY: "text in double quotes, a number, true, false or null",
    frozenset({"bool", "null"}): "true, false or null",
}


class AssertionSyntaxError(ValueError):
    """An expression that cannot be used, with where (0-based ``position``) and what was ``expected``."""

    def __init__(self, expression: str, position: int, expected: str, found: str | None = None, *,
                 detail: str | None = None, check: int | None = None) -> None:
        self.expression = expression
        self.position = position
        self.expected = expected
        self.found = found
        self.detail = detail or f"expected {expected}, found {found or 'end of expression'}"
        self.check = check  # 1-based, set by parse_all
        prefix = f"check {check}: " if check else ""
        super().__init__(f"{prefix}at position {position}: {self.detail}")

    def pointer(self, width: int = 80) -> str:
        """The expression with a caret under ``position``; long expressions show a window around it."""
        # One display line: a tab or newline would put the caret under the wrong character.
        line = re.sub(r"\s", " ", self.expression)
        start = max(0, min(self.position - width // 2, len(line) - width)) if len(line) > width else 0
        shown = line[start:start + width]
        caret = self.position - start
        if start:
            shown, caret = "…" + shown, caret + 1
        if start + width < len(line):
            shown += "…"
        return f"{shown}\n{' ' * caret}^"

    def for_check(self, check: int) -> AssertionSyntaxError:
        return AssertionSyntaxError(self.expression, self.position, self.expected, self.found,
                                    detail=self.detail, check=check)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite the keyword-only arguments
        return (_rebuild, (self.expression, self.position, self.expected, self.found, self.detail, self.check))


def _rebuild(expression: str, position: int, expected: str, found: str | None, detail: str,
             check: int | None) -> AssertionSyntaxError:
    return AssertionSyntaxError(expression, position, expected, found, detail=detail, check=check)


@dataclass(frozen=True)
class Operand:
    """What an assertion looks at. ``path`` (str keys, int indexes) applies to [BODY] parsed as JSON."""

    name: str  # one of _OPERAND_NAMES
    header: str | None = None
    path: tuple[str | int, ...] = ()
    length: bool = False

    @property
    def kind(self) -> str:
        return "LENGTH" if self.length else "JSON" if self.path and self.name == "BODY" else self.name

    def base_text(self, upto: int | None = None) -> str:
        """``[BODY].a."odd key"[0]`` — the operand without len(), the path cut after ``upto`` steps."""
        text = f"[HEADER:{self.header}]" if self.name == "HEADER" else f"[{self.name}]"
        for step in self.path[:upto]:
            if isinstance(step, int):
                text += f"[{step}]"
            elif _KEY.fullmatch(step):
                text += f".{step}"
            else:
                text += '."' + step.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    @property
    def text(self) -> str:
        return f"len({self.base_text()})" if self.length else self.base_text()


@dataclass(frozen=True)
class Comparison:
    """A parsed expression. ``value`` is a literal (str, int, float, bool or None) or, for in / not in, a
    tuple of them; durations are already numbers in the operand's unit (ms or seconds)."""

    operand: Operand
    operator: str  # canonical: "==", ..., "not contains"
    value: Any
    pattern: UserPattern | None = None


@dataclass(frozen=True)
class _Literal:
    kind: str  # number, string, bool, null, duration
    value: Any
    start: int
    end: int
    offsets: tuple[int, ...] = ()  # for strings: expression index of each decoded character


def parse_comparison(expression: str) -> Comparison:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise AssertionSyntaxError(expression, MAX_EXPRESSION_CHARS, f"at most {MAX_EXPRESSION_CHARS:,} characters",
                                   detail=f"the expression is too long ({len(expression):,} characters; "
                                          f"at most {MAX_EXPRESSION_CHARS:,})")
    return _Parser(expression).comparison()


class _Parser:
    def __init__(self, expression: str) -> None:
        self.text = expression
        self.i = 0

    # -- helpers ---------------------------------------------------------------------------------------

    def fail(self, expected: str, at: int | None = None, *, detail: str | None = None) -> AssertionSyntaxError:
        at = self.i if at is None else at
        return AssertionSyntaxError(self.text, at, expected, self.found(at), detail=detail)

    def found(self, at: int) -> str:
        """The token at ``at`` as shown in messages: "end of expression", a quoted word, or a literal."""
        rest = self.text[at:].lstrip()
        if not rest:
            return "end of expression"
        token = _WORD.match(rest) or _NUMBER.match(rest) or _TOKEN.match(rest)
        shown = token.group() if token else rest[0]
        if len(shown) > 30:
            shown = shown[:29] + "…"
        return shown if shown[0] in "\"'" or _NUMBER.fullmatch(shown) else f'"{shown}"'

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def at_end(self) -> bool:
        return self.i >= len(self.text)

    def peek(self, n: int = 1) -> str:
        return self.text[self.i:self.i + n]

    def word(self) -> str:
        match = _WORD.match(self.text, self.i)
        return match.group() if match else ""

    # -- grammar ---------------------------------------------------------------------------------------

    def comparison(self) -> Comparison:
        self.skip_space()
        if self.at_end():
            raise self.fail("an assertion such as [STATUS] == 200")
        operand = self.subject()
        self.skip_space()
        operator_at = self.i
        operator = self.operator(operand)
        kind = _KINDS[operand.kind]
        if operator not in kind.operators:
            usable = ", ".join(op for op in _ALL_OPERATORS if op in kind.operators)
            raise self.fail(f"an operator that works on {kind.noun} ({usable})", operator_at)
        self.skip_space()
        pattern = None
        if operator in ("in", "not in"):
            value: Any = self.tuple_of(operand, operator)
        else:
            literal = self.literal(f'a value after "{operator}"')
            value = self.check_kind(literal, operand, operator)
            if operator.endswith("matches"):
                pattern = self.regex(literal)
        self.skip_space()
        if not self.at_end():
            raise self.fail("end of expression (one assertion per check)")
        return Comparison(operand, operator, value, pattern)

    def subject(self) -> Operand:
        if self.word().lower() == "len":
            self.i += 3
            self.skip_space()
            if self.peek() != "(":
                raise self.fail('"(" after "len", as in len([BODY].items)')
            self.i += 1
            self.skip_space()
            inner_at = self.i
            inner = self.operand()
            self.skip_space()
            if self.peek() != ")":
                raise self.fail('")" to close "len("')
            self.i += 1
            if inner.name not in ("BODY", "HEADER"):
                raise self.fail("[BODY], a JSON path such as [BODY].items, or a [HEADER:Name] inside len()",
                                inner_at, detail=f"len() needs text, a list or an object; {inner.text} is "
                                                  f"{_KINDS[inner.kind].noun}")
            return Operand(inner.name, inner.header, inner.path, length=True)
        if self.peek() != "[":
            raise self.fail("an operand such as [STATUS], [BODY] or len([BODY].items)")
        return self.operand()

    def operand(self) -> Operand:
        start = self.i
        if self.peek() != "[":
            raise self.fail(f"an operand: one of {KNOWN_OPERANDS}")
        self.i += 1
        name = self.word()
        self.i += len(name)
        upper = name.upper()
        if upper == "HEADER" and self.peek() == ":":
            self.i += 1
            header = _HEADER_NAME.match(self.text, self.i)
            if not header:
                raise self.fail('a header name after "[HEADER:", as in [HEADER:Content-Type]')
            self.i = header.end()
            if self.peek() != "]":
                raise self.fail('"]" to close the header name')
            self.i += 1
            operand = Operand("HEADER", header=header.group())
        elif upper in _OPERAND_NAMES and upper != "HEADER":
            if self.peek() != "]":
                raise self.fail(f'"]" to close [{upper}')
            self.i += 1
            operand = Operand(upper)
        else:
            end = self.text.find("]", start)
            written = self.text[start:end + 1] if 0 <= end < start + 40 else self.text[start:self.i + 1]
            hint = ""
            if upper == "HEADER":
                hint = "; a header is named after a colon, as in [HEADER:Content-Type]"
            elif close := difflib.get_close_matches(upper, _OPERAND_NAMES, n=1):
                hint = f"; did you mean [{close[0]}]?"
            raise self.fail(f"one of {KNOWN_OPERANDS}", start,
                            detail=f"unknown operand {written}; the known ones are {KNOWN_OPERANDS}{hint}")
        path_at = self.i
        path = self.path()
        if operand.name == "HUMAN_CONTACT" and path:
            if len(path) != 1 or path[0] not in HUMAN_CONTACT_KINDS:
                kinds = ", ".join(f".{kind}" for kind in HUMAN_CONTACT_KINDS)
                raise self.fail("a kind of contact", path_at, detail=f"[HUMAN_CONTACT] can be followed by one of "
                                f"{kinds}, not {self.text[path_at:self.i]}")
        elif path and operand.name != "BODY":
            raise self.fail("an operator", path_at,
                            detail=f"only [BODY] can be followed by a JSON path, not {operand.text}")
        return Operand(operand.name, operand.header, path)

    def path(self) -> tuple[str | int, ...]:
        steps: list[str | int] = []
        while self.peek() in (".", "["):
            if self.peek() == ".":
                self.i += 1
                key = _KEY.match(self.text, self.i)
                if key:
                    steps.append(key.group())
                    self.i = key.end()
                elif self.peek() in ('"', "'"):
                    steps.append(self.string().value)
                else:
                    raise self.fail('a key after "." (a name, or a "quoted key")')
            else:
                self.i += 1
                self.skip_space()
                index = _INDEX.match(self.text, self.i)
                if index:
                    steps.append(int(index.group()))
                    self.i = index.end()
                elif self.peek() in ('"', "'"):
                    steps.append(self.string().value)
                else:
                    raise self.fail('a list index such as [0] or a "quoted key" after "["')
                self.skip_space()
                if self.peek() != "]":
                    raise self.fail('"]" to close the index')
                self.i += 1
        return tuple(steps)

    def operator(self, operand: Operand) -> str:
        expected = f"an operator (==, !=, <, <=, >, >=, in, contains, matches, or not …) after {operand.text}"
        two = self.peek(2)
        if two in ("==", "!=", "<=", ">="):
            self.i += 2
            return two
        if two[:1] in ("<", ">"):
            self.i += 1
            return two[:1]
        if two[:1] == "=":
            raise self.fail(expected, detail='use "==" to compare ("=" alone is not an operator)')
        word = self.word().lower()
        if word in ("in", "contains", "matches"):
            self.i += len(word)
            return word
        if word == "not":
            self.i += 3
            self.skip_space()
            second = self.word().lower()
            if second not in ("in", "contains", "matches"):
                raise self.fail('"in", "contains" or "matches" after "not"')
            self.i += len(second)
            return f"not {second}"
        raise self.fail(expected)

    def tuple_of(self, operand: Operand, operator: str) -> tuple[Any, ...]:
        if self.peek() != "(":
            raise self.fail(f'a list of values in parentheses after "{operator}", such as (200, 302)')
        self.i += 1
        values = []
        while True:
            self.skip_space()
            if values and self.peek() == ")":  # a trailing comma is fine
                break
            literal = self.literal(f'a value inside the parentheses after "{operator}"')
            values.append(self.check_kind(literal, operand, operator))
            self.skip_space()
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != ")":
                raise self.fail('"," or ")" to close the list')
        self.i += 1
        return tuple(values)

    def literal(self, expected: str) -> _Literal:
        start = self.i
        if self.peek() in ('"', "'"):
            return self.string()
        number = _NUMBER.match(self.text, self.i)
        if number:
            self.i = number.end()
            value = float(number.group()) if "." in number.group() else int(number.group())
            unit = self.word()
            if not unit:
                return _Literal("number", value, start, self.i)
            if unit.lower() not in _UNIT_SECONDS:
                raise self.fail("a duration unit: ms, s, m, h or d", self.i,
                                detail=f'unknown duration unit "{unit}"; use ms, s, m, h or d (as in 14d or 500ms)')
            self.i += len(unit)
            return _Literal("duration", value * _UNIT_SECONDS[unit.lower()], start, self.i)
        word = self.word()
        constants = {"true": ("bool", True), "false": ("bool", False), "null": ("null", None)}
        if word.lower() in constants:
            self.i += len(word)
            kind, value = constants[word.lower()]
            return _Literal(kind, value, start, self.i)
        if word:
            raise self.fail(expected, detail=f'expected {expected}, found "{word}" (text goes in double quotes: '
                                             f'"{word}")')
        raise self.fail(expected)

    def string(self) -> _Literal:
        """A quoted string. The escapes are \\" (or \\'), \\\\, and the JSON ones \\n \\t \\r \\uXXXX (the
        content kind writes its texts with json.dumps; in a regex they mean the same character anyway).
        Anything else after a backslash is kept as typed, so "\\d{3}" and "\\b" reach the regex intact."""
        start = self.i
        quote = self.text[start]
        self.i += 1
        chars: list[str] = []
        offsets: list[int] = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == quote:
                self.i += 1
                return _Literal("string", "".join(chars), start, self.i, tuple(offsets))
            if c == "\\":
                escaped = self.peek(2)[1:]
                unicode = _UNICODE_ESCAPE.match(self.text, self.i + 1)
                if escaped in (quote, "\\") or escaped in _ESCAPES or unicode:
                    chars.append(chr(int(unicode.group()[1:], 16)) if unicode else _ESCAPES.get(escaped, escaped))
                    offsets.append(self.i)
                    self.i += 1 + (len(unicode.group()) if unicode else 1)
                    continue
            chars.append(c)
            offsets.append(self.i)
            self.i += 1
        raise AssertionSyntaxError(self.text, start, f"a closing {quote}", "end of expression",
                                   detail=f"unclosed string: expected a closing {quote} for the string that "
                                          f"starts here, found end of expression")

    def check_kind(self, literal: _Literal, operand: Operand, operator: str) -> Any:
        kind = _KINDS[operand.kind]
        if operator.endswith("matches"):
            allowed = frozenset({"string"})
        elif operator.endswith("contains"):
            allowed = kind.contains
        elif operator in ORDERING:
            allowed = kind.order
        else:
            allowed = kind.equal
        if literal.kind not in allowed:
            what = _KIND_PHRASES.get(allowed, "a value")
            raise self.fail(f'{what} after "{operator}" ({operand.text} is {kind.noun})', literal.start)
        if literal.kind == "duration" and operand.name == "RESPONSE_TIME":
            return literal.value * 1000  # [RESPONSE_TIME] counts milliseconds
        return literal.value

    def regex(self, literal: _Literal) -> UserPattern:
        pattern: str = literal.value

        def position(index: int | None) -> int:
            """Where pattern character ``index`` was typed (escapes make the two differ)."""
            if index is None:
                return literal.start
            return literal.offsets[index] if index < len(literal.offsets) else literal.end - 1

        if len(pattern) > MAX_PATTERN_CHARS:
            raise self.fail(f"a regular expression of at most {MAX_PATTERN_CHARS} characters", literal.start,
                            detail=f"the regular expression is too long ({len(pattern):,} characters; at most "
                                   f"{MAX_PATTERN_CHARS})")
        try:
            return compile_pattern(pattern)
        except PatternError as exc:
            expected = "a regular expression in RE2 syntax" if exc.unsupported else "a valid regular expression"
            raise self.fail(expected, position(exc.index), detail=exc.reason) from None
