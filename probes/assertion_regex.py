"""Is a tenant's regular expression safe to run over a 2 MB page? (for ``matches`` in probes.assertions)

Python's ``re`` backtracks and cannot be interrupted, so one badly written pattern typed by a practice
owner could pin a worker for minutes on every run. ``risk`` is a deliberately conservative structural
check run once, at parse time, on a pattern that ``re.compile`` already accepted. It refuses:

* a repeated group that itself contains a variable-length piece — ``(a+)+``, ``(a*)*``, ``(\\d+,?)+``,
  ``(\\d ?){11}`` — (exponential backtracking) unless every repetition starts or ends with a literal
  character that the inner repeats cannot match, which pins where each repetition begins: ``(,\\d+)*``,
  ``(\\w+\\.)+`` and ``(?:\\d{1,3},)+`` are fine. Some refused patterns are in fact harmless; that is
  the price of being simple and sure;
* a repeated alternation whose branches could start the same way or be empty — ``(a|a)*``, ``(\\d|x)+``,
  ``(a|)*``; ``(Mon|Tue)+`` is fine because every branch starts with its own letter;
* an unbounded repeat of something that matches almost any character — ``.*``, ``\\S+``, ``[\\s\\S]*``,
  ``[^\\n]*`` — or such a repeat bounded above 1,000. ``re.search`` tries every start position and each
  such repeat runs to the end of the line, which is the whole page for minified HTML: quadratic on 2 MB.
  ``matches`` already searches anywhere in the text, and ``.{0,200}`` bridges a gap safely.

What it does not promise: linear time. Any unbounded repeat is quadratic on a long enough run of the
characters it matches (``\\w+@`` over 2 MB of letters), because ``re.search`` retries at every start.
Real pages rarely hold such runs — the patterns above take well under a second on 2 MB of HTML — but a
hard guarantee needs a time limit around the match or a linear-time engine in the worker.

It does no matching and does not touch the network; it only reads the pattern text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A bounded repeat of a wide class costs start positions x this bound; above it the cost is like ".*".
MAX_WIDE_REPEAT = 1000
# Alternation repeated fewer times than this is at worst 2**n, which stays cheap.
BRANCH_REPEAT_LIMIT = 10

_BRACES = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
# Escaped or literal (the assertion language turns "\\n" into a real newline before the regex sees it).
_WHITESPACE_MEMBERS = {"\\n", "\\r", "\\t", "\\f", "\\v", "\\s", " ", "\n", "\r", "\t", "\f", "\v"}


@dataclass
class _Group:
    alternatives: list[list[_Item]] = field(default_factory=lambda: [[]])


@dataclass
class _Item:
    kind: str  # "char" (a literal character), "class", "group" or "other" (anchors, backreferences)
    position: int  # index in the pattern, for the error's caret
    char: str = ""
    wide: bool = False  # matches (almost) any character: ".", "\S", "[\s\S]", "[^\n]"
    source: str = ""  # for classes: the pattern text, to ask which characters it matches
    group: _Group | None = None
    low: int = 1
    high: int | None = 1  # None = unbounded
    quantifier_at: int = -1

    @property
    def repeats(self) -> bool:
        return self.high is None or self.high > 1

    @property
    def variable(self) -> bool:
        return self.high != self.low


def risk(pattern: str) -> tuple[int, str] | None:
    """(index into the pattern, reason) for a pattern prone to slow backtracking; None when it looks safe."""
    root = _Scanner(pattern).group(top=True)
    return _check(root)


def _check(group: _Group) -> tuple[int, str] | None:
    for alternative in group.alternatives:
        for item in alternative:
            where = item.quantifier_at if item.quantifier_at >= 0 else item.position
            if item.group is not None:
                inner = item.group
                if item.repeats and _has_variable(inner) and not _is_delimited(inner):
                    return where, ("a repeated group contains another repeat (like (a+)+), which can take "
                                   "exponential time; start or end each repetition with a separator the inner "
                                   "repeat cannot match, e.g. (\\d+,)+ rather than (\\d+,?)+")
                if (item.high is None or item.high >= BRANCH_REPEAT_LIMIT) and _has_ambiguous_branches(inner):
                    return where, ("a repeated alternation whose branches can match the same text (like (a|a)*) "
                                   "can take exponential time; make each branch start with a different "
                                   "character")
                found = _check(inner)
                if found:
                    return found
            if (item.high is None or item.high > MAX_WIDE_REPEAT) and _is_wide(item):
                return where, ("an unbounded repeat of any character (like .* or \\S+) is slow on large pages; "
                               "matches already searches anywhere in the text, so drop a leading .*, or bound "
                               "a gap, e.g. .{0,200}")
    return None


def _has_variable(group: _Group) -> bool:
    return any(item.variable or (item.group is not None and _has_variable(item.group))
               for alternative in group.alternatives for item in alternative)


def _variable_atoms(group: _Group, inside_variable: bool = False) -> list[_Item]:
    """The atoms that can match a varying number of times within ``group``."""
    atoms = []
    for alternative in group.alternatives:
        for item in alternative:
            variable = inside_variable or item.variable
            if item.group is not None:
                atoms.extend(_variable_atoms(item.group, variable))
            elif variable:
                atoms.append(item)
    return atoms


def _is_delimited(group: _Group) -> bool:
    """Each alternative starts or ends with a required literal that no variable atom inside can match, so
    a repetition's boundaries are fixed by the text and backtracking cannot re-split it."""
    variable = _variable_atoms(group)
    for alternative in group.alternatives:
        ends = [alternative[0], alternative[-1]] if alternative else []
        if not any(end.kind == "char" and not end.variable and not any(_can_match(atom, end.char) for atom in variable)
                   for end in ends):
            return False
    return True


def _can_match(atom: _Item, char: str) -> bool:
    if atom.kind == "char":
        return atom.char.lower() == char.lower()
    if atom.kind == "class" and not atom.wide:
        try:  # ignoring case, in case the pattern sets (?i)
            return re.fullmatch(atom.source, char, re.IGNORECASE) is not None
        except re.error:
            return True
    return True  # wide classes, backreferences, anything unusual: assume the worst


def _has_ambiguous_branches(group: _Group) -> bool:
    if len(group.alternatives) > 1 and not _branches_are_distinct(group):
        return True
    return any(item.group is not None and _has_ambiguous_branches(item.group)
               for alternative in group.alternatives for item in alternative)


def _is_wide(item: _Item) -> bool:
    if item.group is not None:
        return any(_is_wide(inner) for alternative in item.group.alternatives for inner in alternative)
    return item.wide


def _branches_are_distinct(group: _Group) -> bool:
    """Every branch starts with a required literal character and no two share it (ignoring case)."""
    firsts: set[str] = set()
    for alternative in group.alternatives:
        if not alternative or alternative[0].kind != "char" or alternative[0].low < 1:
            return False
        first = alternative[0].char.lower()
        if first in firsts:
            return False
        firsts.add(first)
    return True


class _Scanner:
    """Reads just enough regex syntax to see groups, alternation, classes and quantifiers."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def group(self, top: bool = False) -> _Group:
        group = _Group()
        p = self.p
        while self.i < len(p):
            c = p[self.i]
            if c == ")" and not top:
                self.i += 1
                return group
            if c == "|":
                group.alternatives.append([])
                self.i += 1
                continue
            item = self.atom()
            if item is None:
                continue
            self.quantifier(item)
            group.alternatives[-1].append(item)
        return group

    def atom(self) -> _Item | None:
        p, start = self.p, self.i
        c = p[start]
        if c == "\\":
            return self.escape()
        if c == "[":
            return self.char_class()
        if c == "(":
            return self.open_group()
        self.i += 1
        if c == ".":
            return _Item("class", start, wide=True)
        if c in "^$":
            return _Item("other", start)
        return _Item("char", start, char=c)

    def escape(self) -> _Item:
        start = self.i
        letter = self.p[start + 1] if start + 1 < len(self.p) else ""
        self.i += 2
        if letter in ("S", "D", "W"):
            return _Item("class", start, wide=True)
        if letter in ("s", "d", "w"):
            return _Item("class", start, source="\\" + letter)
        if letter.isdigit() or letter in "AZbBxuUN":
            # Backreferences, anchors and numeric escapes: never a literal that could tell alternation
            # branches apart, so "other" is the conservative answer. Skip their digits / braces.
            rest = self.p[self.i:]
            skip = re.match({"x": r"[0-9a-fA-F]{0,2}", "u": r"[0-9a-fA-F]{0,4}", "U": r"[0-9a-fA-F]{0,8}",
                             "N": r"\{[^}]*\}?"}.get(letter, r"\d*" if letter.isdigit() else ""), rest)
            self.i += skip.end() if skip else 0
            return _Item("other", start)
        return _Item("char", start, char=letter)

    def char_class(self) -> _Item:
        start = self.i
        p = self.p
        self.i += 1
        negated = self.i < len(p) and p[self.i] == "^"
        if negated:
            self.i += 1
        members: list[str] = []
        first = True
        while self.i < len(p) and (p[self.i] != "]" or first):
            if p[self.i] == "\\" and self.i + 1 < len(p):
                members.append(p[self.i:self.i + 2])
                self.i += 2
            else:
                members.append(p[self.i])
                self.i += 1
            first = False
        self.i += 1  # the closing "]"
        found = set(members)
        if negated:
            # [^<]* stops at the next tag and is the safe idiom; [^\n]* is just ".*" spelled differently.
            wide = found <= _WHITESPACE_MEMBERS
        else:
            wide = bool(found & {"\\S", "\\D", "\\W"})
        return _Item("class", start, wide=wide, source=p[start:self.i])

    def open_group(self) -> _Item | None:
        start = self.i
        p = self.p
        self.i += 1
        if p.startswith("?#", self.i):  # a comment
            self.i = p.find(")", self.i) + 1 or len(p)
            return None
        if p.startswith("?P=", self.i):  # a named backreference
            self.i = p.find(")", self.i) + 1 or len(p)
            return _Item("other", start)
        if p.startswith("?(", self.i):  # a conditional: skip the condition, the rest reads like a group
            self.i = p.find(")", self.i) + 1 or len(p)
        elif p.startswith("?", self.i):
            flags = re.match(r"\?(?:P<\w+>|<[=!]|[=!:>]|[aiLmsux-]*[:)])", p[self.i:])
            if flags and flags.group().endswith(")"):  # inline flags such as (?i): no group at all
                self.i += flags.end()
                return None
            self.i += flags.end() if flags else 1
        return _Item("group", start, group=self.group())

    def quantifier(self, item: _Item) -> None:
        p, at = self.p, self.i
        if at >= len(p):
            return
        c = p[at]
        if c in "*+?":
            item.low, item.high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            self.i += 1
        elif c == "{":
            braces = _BRACES.match(p, at)
            if not braces:
                return  # a literal "{", which re allows
            low, comma, high = braces.groups()
            item.low = int(low or 0)
            item.high = int(high) if high else (None if comma else item.low)
            self.i = braces.end()
        else:
            return
        item.quantifier_at = at
        if self.i < len(p) and p[self.i] in "?+":  # lazy or possessive: same shape for this check
            self.i += 1
