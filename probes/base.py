"""The contract every probe kind keeps, and the judging they share.

A kind turns a ProbeSpec into a ProbeResult. ``run`` never raises: whatever goes wrong at the partner's
end (or is refused by the outbound safety rules) becomes a ``down`` result with a sentence a practice
owner can read. ``check`` looks at a spec without running it and returns ``{field: message}`` for
anything that would make it unrunnable, so the form or the command line can refuse it up front.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar, Sequence

from probes.assertions import Assertion, AssertionSyntaxError, Subject, evaluate_all, parse_all
from probes.fetch import FetchError, FetchPolicy, FetchResponse
from probes.spec import ProbeResult, ProbeSpec, Timings, excerpt


class ProbeKind:
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    # False for kinds that need only a host name (dns) — they still take it from the URL.
    reads_body: ClassVar[bool] = True

    def check(self, spec: ProbeSpec) -> dict[str, str]:
        errors: dict[str, str] = {}
        for field, expressions in (("checks", spec.checks), ("soft_checks", spec.soft_checks)):
            try:
                parse_all(expressions)
            except AssertionSyntaxError as exc:
                errors[field] = str(exc)
        errors.update(self.check_options(spec))
        return errors

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        return {}

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        raise NotImplementedError


def failed(error: str, *, timings: Timings | None = None, blocked: bool = False, **extra: Any) -> ProbeResult:
    return ProbeResult(outcome="down", error=excerpt(error), timings=timings or Timings(), blocked=blocked,
                       details=dict(extra))


def from_fetch_error(exc: FetchError, **details: Any) -> ProbeResult:
    return failed(str(exc), timings=getattr(exc, "timings", None) or Timings(), blocked=exc.phase == "blocked",
                  **details)


def subject_of(response: FetchResponse, now: datetime) -> Subject:
    seconds_left = None
    if response.certificate is not None:
        seconds_left = response.certificate.days_left(now) * 86400
    return Subject(status=response.status, response_time_ms=response.timings.total_ms, body=response.text(),
                   headers=response.headers, certificate_seconds_left=seconds_left)


def status_problem(response: FetchResponse) -> str | None:
    """With no checks of its own, a probe expects a page that works: no 4xx or 5xx."""
    if response.status >= 400:
        return f"The page answered HTTP {response.status} {response.reason}".rstrip()
    return None


def judge(response: FetchResponse, spec: ProbeSpec, now: datetime, *,
          checks: Sequence[Assertion] | None = None, soft_checks: Sequence[Assertion] | None = None,
          soft_problems: Sequence[str] = (), details: dict[str, Any] | None = None) -> ProbeResult:
    """Turn a response and the spec's assertions into up / degraded / down."""
    checks = parse_all(spec.checks) if checks is None else checks
    soft_checks = parse_all(spec.soft_checks) if soft_checks is None else soft_checks
    subject = subject_of(response, now)
    result = ProbeResult(outcome="up", status=response.status, timings=response.timings,
                         bytes_read=response.bytes_read, final_url=response.url, details=dict(details or {}))
    if response.truncated:
        result.details["truncated"] = True
    hard_failures = [v.description for v in evaluate_all(checks, subject) if not v.passed]
    if not checks:
        problem = status_problem(response)
        if problem:
            hard_failures.append(problem)
    if hard_failures:
        result.outcome = "down"
        result.failed_checks = hard_failures
        result.error = excerpt(hard_failures[0] if not checks else f"Check failed: {hard_failures[0]}")
        return result
    soft_failures = [v.description for v in evaluate_all(soft_checks, subject) if not v.passed]
    soft_failures.extend(soft_problems)
    total = response.timings.total_ms
    if spec.degraded_after_ms is not None and total is not None and total > spec.degraded_after_ms:
        soft_failures.append(f"Slower than {spec.degraded_after_ms:,} ms (took {total:,.0f} ms)")
    if soft_failures:
        result.outcome = "degraded"
        result.failed_checks = soft_failures
        result.error = excerpt(soft_failures[0])
    return result


def parse_json_body(response: FetchResponse) -> tuple[Any, str | None]:
    try:
        return json.loads(response.text()), None
    except ValueError:
        return None, "The response is not JSON" + (" (it was cut off at the size limit)" if response.truncated else "")
