"""``journey``: a client's path through several pages, e.g. home page → "Contact" link → claims form.

Options: ``steps``, a list of up to 10 objects::

    {"name": "Contact page",                  # shown when this step fails
     "url": "{contact}",                       # may use values extracted earlier; relative to the last page;
                                               # the first step defaults to the touchpoint's URL
     "method": "GET", "headers": {"X-Token": "{token}"}, "body": "...",
     "checks": ["[STATUS] == 200"],            # hard checks for this step (default: no 4xx/5xx)
     "extract": {"contact": "regex:href=\"([^\"]*contact[^\"]*)\"",   # first group, or whole match
                 "token": "json:session.token"}}

A value used after the ``?`` of a url is sent as one query value (escaped whole); elsewhere in a url it is
taken as (part of) a link. A regex value found in an HTML page has its entities decoded (``&amp;`` → ``&``),
as a browser would for a link. Regular expressions run on RE2, as for ``matches`` (probes.user_regex).

The whole journey shares one deadline — ``spec.timeout_seconds`` or the policy's ``total_timeout``, the
shorter — so each step gets only the time the earlier ones left. The result names the step that failed
(or ran out of time), and lists every step with its status and time. A journey has no checks of its own:
they go on its steps.
"""

from __future__ import annotations

import html
import json
import re
import time
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import quote, urljoin

from probes.base import ProbeKind, checks_problem, failed, judge, slower_than, within_timeout
from probes.budget import Budget, OutOfTime
from probes.fetch import FetchError, FetchPolicy, FetchResponse, fetch
from probes.network_words import seconds
from probes.settings import SettingsError
from probes.spec import Finding, ProbeSpec, Timings, excerpt
from probes.user_regex import PatternError, compile_pattern

MAX_STEPS = 10
MAX_NAME_CHARS = 80
MAX_VALUE_CHARS = 2000
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
_WHILE = re.compile(r"\(while ([^()]*)\)\s*$")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
STEP_FIELDS = ("name", "url", "method", "headers", "body", "checks", "extract")
# Characters a value keeps when it stands for (part of) a link: the URL's own structure.
_LINK_SAFE = "/:?&=%#@+;,!$'()*~[]"


def _steps(spec: ProbeSpec) -> list[Any]:
    steps = spec.options.get("steps")
    return steps if isinstance(steps, list) else []


def _placeholders(step: dict[str, Any]) -> list[str]:
    texts = [step.get("url"), step.get("body"), *(step.get("headers") or {}).values()]
    return [match[1] for text in texts if isinstance(text, str) for match in _PLACEHOLDER.finditer(text)]


def _check_step(index: int, step: Any, known: set[str]) -> str | None:
    """What is wrong with step ``index`` (1-based), given the names earlier steps extract; None if nothing."""
    where = f"Step {index}"
    if not isinstance(step, dict):
        return f"{where} must be an object with a name and a url."
    unknown = set(step) - set(STEP_FIELDS)
    if unknown:
        return f"{where} has unknown field(s): {', '.join(sorted(map(str, unknown)))}."
    for field in ("name", "url", "method", "body"):
        if step.get(field) is not None and not isinstance(step[field], str):
            return f"{where}: {field} must be text."
    if len(step.get("name") or "") > MAX_NAME_CHARS:
        return f"{where}: the name must be at most {MAX_NAME_CHARS} characters."
    if index > 1 and not (step.get("url") or "").strip():
        return f"{where} needs a url."
    if (step.get("method") or "GET").strip().upper() not in METHODS:
        return f"{where}: method must be one of {', '.join(METHODS)}."
    headers = step.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return f"{where}: headers must map names to text."
    checks = step.get("checks") or []
    if not isinstance(checks, list):
        return f"{where}: checks must be a list of expressions."
    problem = checks_problem(checks)
    if problem:
        return f"{where}: {problem}"
    for name in _placeholders(step):
        if name not in known:
            return f"{where} uses {{{name}}}, which no earlier step extracts."
    extract = step.get("extract") or {}
    if not isinstance(extract, dict):
        return f"{where}: extract must map names to regex:… or json:… rules."
    for name, rule in extract.items():
        if not _NAME.match(str(name)):
            return f"{where}: “{str(name)[:40]}” is not a usable name (letters, digits, underscores)."
        if not isinstance(rule, str):
            return f"{where}: the rule for {name} must be text starting with regex: or json:."
        if rule.startswith("regex:"):
            try:
                compile_pattern(rule[6:])
            except PatternError as exc:
                return f"{where}: in the regex for {name}, {exc.reason}."
        elif rule.startswith("json:"):
            if not all(rule[5:].split(".")):
                return f"{where}: the rule for {name} needs a path after json:, e.g. json:session.token."
        else:
            return f"{where}: the rule for {name} must start with regex: or json:."
    known.update(str(name) for name in extract)
    return None


def _fill(template: str, values: dict[str, str], *, for_url: bool) -> str:
    query_at = template.find("?") if for_url else -1

    def replace(match: re.Match[str]) -> str:
        value = values.get(match[1])
        if value is None:
            raise KeyError(match[1])
        if not for_url:
            return value
        if 0 <= query_at < match.start():
            return quote(value, safe="")            # one query value: its & = # must not split it
        return quote(value, safe=_LINK_SAFE)        # a link found on a page: keep its structure

    return _PLACEHOLDER.sub(replace, template)


def _extract(response: FetchResponse, rule: str) -> str | None:
    if rule.startswith("regex:"):
        match = compile_pattern(rule[6:]).search(response.text())
        if not match:
            return None
        value = match.group(1) if match.groups() else match.group(0)
        if value is not None and "html" in (response.header("content-type") or "").lower():
            value = html.unescape(value)
        return value
    try:
        document: Any = json.loads(response.text().lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None
    for part in rule[5:].split("."):
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    if document is None:
        return None
    return document if isinstance(document, str) else json.dumps(document)


def _clause(text: str) -> str:
    """A sentence made the second half of another: "The page answered…" → "the page answered…" (not "DNS")."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class JourneyProbe(ProbeKind):
    name = "journey"
    label = "Client journey (several steps)"
    description = "Follows a client's path through several pages and says which step failed."
    option_fields = ("steps",)

    def clean_options(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        """Steps as JSON text (the form's) or as a list already (a script's); what they say, check judges."""
        steps = typed.get("steps")
        if isinstance(steps, str):
            try:
                steps = json.loads(steps) if steps.strip() else []
            except ValueError as exc:
                raise SettingsError({"steps": f"Steps must be JSON: {exc.args[0] if exc.args else exc}."}) from None
        return {"steps": steps or []}

    def form_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        steps = options.get("steps")
        return {"steps": json.dumps(steps, indent=2, ensure_ascii=False) if steps else ""}

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        if spec.checks or spec.soft_checks:
            return {"checks": "A journey's checks go on its steps, so the result can say which step failed."}
        steps = spec.options.get("steps")
        if steps is not None and not isinstance(steps, list):
            return {"steps": "Steps must be a list of objects, one per step."}
        if not steps:
            return {"steps": "A journey needs at least one step."}
        if len(steps) > MAX_STEPS:
            return {"steps": f"A journey may have at most {MAX_STEPS} steps."}
        known: set[str] = set()
        for index, step in enumerate(steps, start=1):
            problem = _check_step(index, step, known)
            if problem:
                return {"steps": problem}
        return {}

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        unusable = self.check_options(spec)
        if unusable:                                   # check() refuses these; never run half a journey
            return failed(f"This journey cannot run: {next(iter(unusable.values()))}")
        policy = within_timeout(spec, policy)
        limit = policy.total_timeout
        budget = Budget(limit)                  # the checks and extraction rules share the journey's deadline
        deadline = budget.deadline
        values: dict[str, str] = {}
        reports: list[dict[str, Any]] = []
        total_ms = 0.0
        bytes_read = 0
        last_url = spec.url
        result = Finding(outcome="up")

        def stop(sentence: str, step_ms: float | None = None) -> Finding:
            result.outcome = "down"
            result.error = excerpt(sentence)
            result.details = {"steps": reports, "failed_step": label}
            spent = total_ms + (step_ms or 0.0)
            result.timings = Timings(total_ms=spent or None)
            result.bytes_read = bytes_read
            return result

        for index, step in enumerate(_steps(spec), start=1):
            name = step.get("name") or f"Step {index}"
            label = f"Step {index} “{name}”" if step.get("name") else f"Step {index}"
            try:
                url = urljoin(last_url, _fill(step["url"], values, for_url=True)) if step.get("url") else spec.url
                headers = tuple((k, _fill(v, values, for_url=False)) for k, v in (step.get("headers") or {}).items())
                body = step.get("body")
                body = _fill(body, values, for_url=False) if body is not None else None
            except KeyError as missing:
                return stop(f"{label} failed: it uses {{{missing.args[0]}}}, which no earlier step found")
            except ValueError:   # urljoin of an address that cannot be read, e.g. an unclosed "[" of IPv6
                return stop(f"{label} failed: its url is not a web address that can be read "
                            "(check the brackets around an IPv6 address and the port number)")
            left = deadline - time.perf_counter()
            if left <= 0:
                reports.append({"name": name, "url": url, "outcome": "down", "error": "not started: out of time"})
                return stop(f"{label} ran out of time: the whole journey may take at most {seconds(limit)}")
            try:
                response = fetch(url, policy=policy.with_changes(total_timeout=left),
                                 method=(step.get("method") or "GET").strip().upper(), headers=headers, body=body)
            except FetchError as exc:
                step_ms = exc.timings.total_ms
                if exc.phase == "timeout":
                    doing = _WHILE.search(str(exc))
                    why = (f"{label} ran out of time{' while ' + doing[1] if doing else ''}: "
                           f"the whole journey may take at most {seconds(limit)}")
                else:
                    why = f"{label} failed: {_clause(str(exc))}"
                reports.append({"name": name, "url": url, "outcome": "down", "total_ms": step_ms,
                                "error": excerpt(why, 200)})
                result.blocked = exc.phase == "blocked"
                return stop(why, step_ms)
            step_spec = ProbeSpec(kind="http", url=url, checks=tuple(step.get("checks") or ()))
            verdict = judge(response, step_spec, now, budget=budget)
            step_ms = response.timings.total_ms or 0.0
            bytes_read += response.bytes_read
            report: dict[str, Any] = {"name": name, "url": response.url, "status": response.status,
                                      "total_ms": response.timings.total_ms, "outcome": verdict.outcome}
            reports.append(report)
            result.status, result.timings, result.final_url = response.status, response.timings, response.url
            if verdict.outcome == "down":
                result.failed_checks = verdict.failed_checks
                first = verdict.failed_checks[0] if verdict.failed_checks else (verdict.error or "it failed")
                report["error"] = excerpt(first, 200)
                if step_spec.checks and verdict.failed_checks:
                    return stop(f"{label} failed a check: {first}", step_ms)
                return stop(f"{label} failed: {_clause(verdict.error or 'it failed')}", step_ms)
            rules = dict(step.get("extract") or {})
            try:
                found = budget.within(lambda stop: {var: None if stop.is_set() else _extract(response, rule)
                                                    for var, rule in rules.items()})
            except OutOfTime as exc:
                report["outcome"], report["error"] = "down", "ran out of time reading the page"
                return stop(f"{label} ran out of time: {_clause(str(exc))}", step_ms)
            for var, rule in rules.items():
                value = found[var]
                if value is None:
                    report["outcome"] = "down"
                    report["error"] = f"could not find {var}"
                    where = "in the response" if rule.startswith("json:") else "on the page"
                    return stop(f"{label} failed: could not find {var} {where}", step_ms)
                values[var] = value[:MAX_VALUE_CHARS]
            total_ms += step_ms
            last_url = response.url
        result.timings = Timings(dns_ms=result.timings.dns_ms, connect_ms=result.timings.connect_ms,
                                 tls_ms=result.timings.tls_ms, first_byte_ms=result.timings.first_byte_ms,
                                 total_ms=total_ms)
        result.bytes_read = bytes_read
        result.details = {"steps": reports}
        # The slowness threshold applies to the whole journey, as a client lives it.
        if spec.degraded_after_ms is not None and total_ms > spec.degraded_after_ms:
            result.outcome = "degraded"
            result.error = slower_than(spec.degraded_after_ms, total_ms)
            result.failed_checks = [result.error]
        return result
