"""Regular expressions typed by practice owners (``matches`` checks, journey ``regex:`` rules), run on RE2.

Python's ``re`` backtracks and cannot be interrupted, so one pattern such as ``\\w+\\w+\\w+\\w+\\w+!`` could
pin a worker for every practice. RE2 (google-re2) runs in time linear in the text, never backtracks, and
releases the GIL while it searches. It lacks the features that need backtracking — look-around,
backreferences, atomic groups, possessive repeats, conditionals — so a pattern using one is refused when
it is saved, with a sentence naming the feature and what to write instead.

Linear is not free: RE2 falls back from its DFA to a simulation whose cost is text length × program size,
so patterns are also refused above ``MAX_PROGRAM_SIZE`` compiled instructions, and the text a pattern sees
is the fetch's byte cap. Together they bound a search; the probe's time budget (probes.budget) bounds
the whole run on top of that.

``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII in RE2; ``\\p{L}`` is any letter. Nothing here touches the network.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# Compiled RE2 instructions. ``Lodge.{0,200}claim`` is ~1,800 (``.`` is a UTF-8 character, ~9 each);
# ordinary patterns are tens. Above this a worst-case search over 2 MB takes minutes of a core.
MAX_PROGRAM_SIZE = 2000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would otherwise print each refused pattern to stderr (CLI: one line only)

SYNTAX_NOTE = "patterns follow RE2 syntax (no look-around or backreferences)"

# RE2's complaint about a Perl operator → (what the owner used, what to write instead).
_PERL_OPERATORS = {
    "(?=": ("a look-ahead (?=…)", "match the text itself, or add a second check"),
    "(?!": ("a negative look-ahead (?!…)", "use a separate “not matches” check"),
    "(?<=": ("a look-behind (?<=…)", "include the text before in the match"),
    "(?<!": ("a negative look-behind (?<!…)", "use a separate “not matches” check"),
    "(?>": ("an atomic group (?>…)", "RE2 never backtracks, so a plain group (?:…) does the same"),
    "(?(": ("a conditional group (?(…)…)", "split it into two checks"),
    "(?#": ("a comment (?#…)", "remove the comment"),
    "(?P=": ("a backreference (?P=name)", "write the repeated text out"),
    "(?x": ("verbose mode (?x)", "remove it and the spaces it allowed"),
}


class PatternError(ValueError):
    """A pattern partnermon will not run: ``reason`` is a sentence for the owner; ``index`` is where in the
    pattern (None when it is the pattern as a whole); ``unsupported`` tells a missing feature from a typo."""

    def __init__(self, reason: str, index: int | None = None, *, unsupported: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index
        self.unsupported = unsupported


class UserPattern:
    """A compiled user pattern. Immutable; equal and hashed by its text, so checks holding one compare."""

    __slots__ = ("source", "_regexp")

    def __init__(self, source: str, regexp: Any) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "_regexp", regexp)

    source: str

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a UserPattern is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserPattern) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"UserPattern({self.source!r})"

    @property
    def groups(self) -> int:
        return int(self._regexp.groups)

    def search(self, text: str) -> Any:
        """The first match anywhere in ``text`` (an ``re``-like match object with ``group``), or None."""
        return self._regexp.search(text)


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> UserPattern:
    """``pattern`` compiled on RE2; raises PatternError with a sentence the owner can act on."""
    unsupported = _python_only(pattern)
    if unsupported:
        raise unsupported
    try:
        regexp = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise _explain(pattern, exc) from None
    size = max(regexp.programsize, regexp.reverseprogramsize)
    if size > MAX_PROGRAM_SIZE:
        raise PatternError(f"the regular expression is too complex ({size:,} steps once compiled; at most "
                           f"{MAX_PROGRAM_SIZE:,}): use smaller repeat counts, such as {{0,100}} rather than "
                           f"{{0,1000}}, and [^<] rather than . where you can")
    return UserPattern(pattern, regexp)


def _unsupported(feature: str, fix: str, index: int | None) -> PatternError:
    return PatternError(f"the regular expression uses {feature}, which partnermon does not support; "
                        f"{SYNTAX_NOTE}: {fix}", index, unsupported=True)


def _python_only(pattern: str) -> PatternError | None:
    """Constructs RE2 accepts but that would mislead: ``\\C`` matches one byte of a UTF-8 character."""
    index = _escape_at(pattern, "C")
    if index is not None:
        return _unsupported("\\C (one byte)", "use . for one character", index)
    return None


def _escape_at(pattern: str, letter: str) -> int | None:
    i = 0
    while i < len(pattern) - 1:
        if pattern[i] == "\\":
            if pattern[i + 1] == letter:
                return i
            i += 2
        else:
            i += 1
    return None


def _explain(pattern: str, exc: Exception) -> PatternError:
    raw = exc.args[0] if exc.args else b""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    kind, _, argument = message.partition(": ")
    where = pattern.find(argument) if argument else -1
    index = where if where >= 0 else None
    if kind == "invalid perl operator":
        if argument == "(?P" and pattern.find("(?P=") >= 0:
            argument = "(?P="
            index = pattern.find("(?P=")
        for prefix, (feature, fix) in _PERL_OPERATORS.items():
            if argument.startswith(prefix) or (prefix == "(?x" and argument[:2] == "(?" and "x" in argument):
                return _unsupported(feature, fix, index)
        if argument.startswith("(?") and len(argument) > 2 and argument[2].isalpha():
            return _unsupported(f"the flag {argument}", "the flags RE2 knows are i, m, s and U", index)
    if kind == "invalid escape sequence":
        letter = argument[1:2]
        if letter.isdigit() and letter != "0":
            return _unsupported(f"a backreference ({argument})", "write the repeated text out", index)
        if letter == "k":
            return _unsupported(f"a backreference ({argument}…)", "write the repeated text out", index)
        if letter == "Z":
            return _unsupported("\\Z", "write \\z for the end of the text", index)
        if letter == "G":
            return _unsupported("\\G", "anchor with ^ instead", index)
        return PatternError(f"invalid regular expression: {argument} is not an escape RE2 knows "
                            f"(write \\\\ for a backslash)", index)
    if kind == "bad repetition operator" and argument[1:2] == "+":
        return _unsupported(f"a possessive repeat ({argument})",
                            f"RE2 never backtracks, so a plain {argument[0]} does the same", index)
    if kind == "invalid repetition size":
        return PatternError(f"invalid regular expression: {argument} repeats too often (RE2 allows at most "
                            f"1,000 repeats, nested repeats multiplied together)", index)
    if kind.startswith("pattern too large"):
        return PatternError("the regular expression is too complex for RE2: use smaller repeat counts")
    sentences = {
        "missing ]": "a [ is not closed by ]",
        "missing )": "a ( is not closed by )",
        "unexpected )": "a ) has no ( before it",
        "trailing \\": "it ends with a lone backslash",
        "no argument for repetition operator": f"{argument} has nothing before it to repeat",
        "bad repetition operator": f"{argument} is not a repeat operator",
        "invalid character class range": f"the range {argument} runs backwards",
        "invalid character class": f"{argument} is not a character class RE2 knows",
        "invalid named capture group": f"{argument} is not a usable group name",
        "missing argument to repetition operator": f"{argument} has nothing before it to repeat",
    }
    return PatternError(f"invalid regular expression: {sentences.get(kind, message)}", index)


__all__ = ["MAX_PROGRAM_SIZE", "SYNTAX_NOTE", "PatternError", "UserPattern", "compile_pattern"]
