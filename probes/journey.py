"""``journey``: a client's path through several pages, e.g. home page → "Contact" link → claims form.

Options: ``steps``, a list of up to 10 objects::

    {"name": "Contact page",                  # shown when this step fails
     "url": "{contact}",                       # may use values extracted earlier; relative to the last page;
                                               # the first step defaults to the touchpoint's URL
     "method": "GET", "headers": {"X-Token": "{token}"}, "body": "...",
     "checks": ["[STATUS] == 200"],            # hard checks for this step (default: no 4xx/5xx)
     "extract": {"contact": "regex:href=\"([^\"]*contact[^\"]*)\"",   # first group, or whole match
                 "token": "json:session.token"}}

The result names the step that failed, and lists every step with its status and time.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin

from probes.assertions import AssertionSyntaxError, parse_all
from probes.base import ProbeKind, judge
from probes.fetch import FetchError, FetchPolicy, FetchResponse, fetch
from probes.spec import ProbeResult, ProbeSpec, Timings, excerpt

MAX_STEPS = 10
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def _steps(spec: ProbeSpec) -> list[dict[str, Any]]:
    steps = spec.options.get("steps")
    return steps if isinstance(steps, list) else []


def _check_step(index: int, step: Any) -> str | None:
    where = f"Step {index}"
    if not isinstance(step, dict):
        return f"{where} must be an object with a name and a url."
    unknown = set(step) - {"name", "url", "method", "headers", "body", "checks", "extract"}
    if unknown:
        return f"{where} has unknown field(s): {', '.join(sorted(unknown))}."
    if index > 1 and not str(step.get("url") or "").strip():
        return f"{where} needs a url."
    if str(step.get("method") or "GET").upper() not in METHODS:
        return f"{where}: method must be one of {', '.join(METHODS)}."
    headers = step.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return f"{where}: headers must map names to text."
    checks = step.get("checks") or []
    if not isinstance(checks, list):
        return f"{where}: checks must be a list of expressions."
    try:
        parse_all(checks)
    except AssertionSyntaxError as exc:
        return f"{where}: {exc}"
    extract = step.get("extract") or {}
    if not isinstance(extract, dict):
        return f"{where}: extract must map names to regex:… or json:… rules."
    for name, rule in extract.items():
        if not _NAME.match(str(name)):
            return f"{where}: “{str(name)[:40]}” is not a usable name (letters, digits, underscores)."
        rule = str(rule)
        if rule.startswith("regex:"):
            try:
                re.compile(rule[6:])
            except re.error as exc:
                return f"{where}: the regex for {name} is not valid ({exc})."
        elif not rule.startswith("json:"):
            return f"{where}: the rule for {name} must start with regex: or json:."
    return None


def _fill(template: str, values: dict[str, str], *, for_url: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match[1])
        if value is None:
            raise KeyError(match[1])
        # A value lifted from a page may contain anything; in a query string it must stay one value.
        return quote(value, safe="/:?&=%#") if for_url else value

    return _PLACEHOLDER.sub(replace, template)


def _extract(response: FetchResponse, rule: str) -> str | None:
    if rule.startswith("regex:"):
        match = re.search(rule[6:], response.text())
        if not match:
            return None
        return match.group(1) if match.groups() else match.group(0)
    try:
        value: Any = json.loads(response.text())
    except ValueError:
        return None
    for part in rule[5:].split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value if isinstance(value, str) else json.dumps(value)


class JourneyProbe(ProbeKind):
    name = "journey"
    label = "Client journey (several steps)"
    description = "Follows a client's path through several pages and says which step failed."

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        if spec.checks or spec.soft_checks:
            return {"checks": "A journey's checks go on its steps, so the result can say which step failed."}
        steps = _steps(spec)
        if not steps:
            return {"steps": "A journey needs at least one step."}
        if len(steps) > MAX_STEPS:
            return {"steps": f"A journey may have at most {MAX_STEPS} steps."}
        for index, step in enumerate(steps, start=1):
            problem = _check_step(index, step)
            if problem:
                return {"steps": problem}
        return {}

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        values: dict[str, str] = {}
        reports: list[dict[str, Any]] = []
        total_ms = 0.0
        bytes_read = 0
        last_url = spec.url
        result = ProbeResult(outcome="up")
        for index, step in enumerate(_steps(spec), start=1):
            name = str(step.get("name") or f"Step {index}")
            label = f"Step {index} “{name}”"
            try:
                url = urljoin(last_url, _fill(str(step.get("url") or spec.url), values, for_url=True))
                headers = tuple((k, _fill(v, values, for_url=False)) for k, v in (step.get("headers") or {}).items())
                body = step.get("body")
                body = _fill(str(body), values, for_url=False) if body is not None else None
            except KeyError as missing:
                return self._stop(result, reports, label, f"it uses {{{missing.args[0]}}}, which no earlier step found",
                                  total_ms, bytes_read)
            try:
                response = fetch(url, policy=policy, method=str(step.get("method") or "GET").upper(),
                                 headers=headers, body=body)
            except FetchError as exc:
                reports.append({"name": name, "url": url, "outcome": "down", "error": excerpt(str(exc), 200)})
                result.blocked = exc.phase == "blocked"
                return self._stop(result, reports, label, str(exc), total_ms, bytes_read)
            step_spec = ProbeSpec(kind="http", url=url, checks=tuple(step.get("checks") or ()))
            verdict = judge(response, step_spec, now)
            total_ms += response.timings.total_ms or 0.0
            bytes_read += response.bytes_read
            reports.append({"name": name, "url": response.url, "status": response.status,
                            "total_ms": response.timings.total_ms, "outcome": verdict.outcome})
            result.status, result.timings, result.final_url = response.status, response.timings, response.url
            if verdict.outcome == "down":
                result.failed_checks = verdict.failed_checks
                return self._stop(result, reports, label, verdict.error or "it failed", total_ms, bytes_read)
            for var, rule in (step.get("extract") or {}).items():
                value = _extract(response, str(rule))
                if value is None:
                    return self._stop(result, reports, label, f"could not find {var} on the page", total_ms, bytes_read)
                values[var] = value[:2000]
            last_url = response.url
        result.timings = Timings(dns_ms=result.timings.dns_ms, connect_ms=result.timings.connect_ms,
                                 tls_ms=result.timings.tls_ms, first_byte_ms=result.timings.first_byte_ms,
                                 total_ms=total_ms)
        result.bytes_read = bytes_read
        result.details = {"steps": reports}
        # The slowness threshold applies to the whole journey, as a client lives it.
        if spec.degraded_after_ms is not None and total_ms > spec.degraded_after_ms:
            result.outcome = "degraded"
            result.error = f"Slower than {spec.degraded_after_ms:,} ms (took {total_ms:,.0f} ms)"
            result.failed_checks = [result.error]
        return result

    @staticmethod
    def _stop(result: ProbeResult, reports: list[dict[str, Any]], label: str, why: str,
              total_ms: float, bytes_read: int) -> ProbeResult:
        result.outcome = "down"
        result.error = excerpt(f"{label} failed: {why}")
        result.details = {"steps": reports, "failed_step": label}
        result.timings = Timings(total_ms=total_ms or None)
        result.bytes_read = bytes_read
        return result
