"""The contract every probe kind keeps, and the judging they share.

A kind turns a ProbeSpec into a Finding. ``run`` never raises: whatever goes wrong at the partner's
end (or is refused by the outbound safety rules) becomes a ``down`` result with a sentence a practice
owner can read. ``clean_options`` reads the kind's own settings as someone typed them (raising
``SettingsError`` for each field it cannot read) and ``form_values`` shows stored ones back. ``check`` looks
at a spec without running it and returns ``{field: message}`` for
anything that would make it unrunnable, so the form or the command line can refuse it up front.

A run is bounded by ``spec.timeout_seconds`` as well as by the policy's deadlines: partnermon maps the
one onto the other (``monitoring.runs.policy_for``), and ``within_timeout`` makes sure of it for any
other caller. A kind starts a ``Budget`` (probes.budget) before it fetches and hands it to ``judge``, so
the checks on the page share the run's deadline.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar, Iterable, Mapping, Sequence

from probes.assertions import Assertion, AssertionSyntaxError, Subject, parse_all
from probes.budget import Budget, OutOfTime
from probes.fetch import FetchError, FetchPolicy, FetchResponse
from probes.spec import Finding, ProbeSpec, Timings, excerpt, url_parts

# Distinct check lists kept parsed; a worker runs the same few thousand probes over and over.
PARSED_CHECKS_CACHE = 4096


class ProbeKind:
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    # False for kinds that need only a host name (dns) — they still take it from the URL.
    # dns takes a bare host name as well as a URL; every other kind needs an http(s) address.
    needs_web_address: ClassVar[bool] = True
    # The kind's own fields on the settings form (its options), in the order the form shows them.
    option_fields: ClassVar[tuple[str, ...]] = ()

    def clean_options(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        """The options to store, read from what someone typed: form text or values from a script. Raises
        SettingsError naming each field that cannot be read; whether the options make sense for the address
        and checks is ``check``'s business."""
        return {}

    def form_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Stored options (``{}``: a new probe's) as the settings form shows them; ``clean_options`` reads them back."""
        return {}

    def check(self, spec: ProbeSpec) -> dict[str, str]:
        errors: dict[str, str] = {}
        for field, expressions in (("checks", spec.checks), ("soft_checks", spec.soft_checks)):
            problem = checks_problem(expressions)
            if problem:
                errors[field] = problem
        if self.needs_web_address:
            parts = url_parts(spec.url)
            if parts is None:
                errors["url"] = (f"“{str(spec.url)[:60]}” is not a web address that can be read: check the brackets "
                                 "around an IPv6 address and the port number.")
            elif parts.scheme not in ("http", "https") or not parts.hostname:
                errors["url"] = "Use a full web address starting with http:// or https://."
        timeout = spec.timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            errors["timeout_seconds"] = "The timeout must be a number of seconds above 0."
        errors.update(self.check_options(spec))
        return errors

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        return {}

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        raise NotImplementedError


@lru_cache(maxsize=PARSED_CHECKS_CACHE)
def _parse_cached(expressions: tuple[str, ...]) -> tuple[Assertion, ...]:
    return tuple(parse_all(expressions))


def parsed_checks(expressions: Iterable[str]) -> tuple[Assertion, ...]:
    """``expressions`` parsed, from a cache: Assertions are immutable, so every run of a probe shares them.
    Raises AssertionSyntaxError like ``parse_all`` (errors are not cached)."""
    if isinstance(expressions, str):
        raise TypeError("checks are a list of expressions, not one string")
    return _parse_cached(tuple(expressions))


def checks_problem(expressions: Any) -> str | None:
    """Why ``expressions`` cannot be used as a list of checks, or None."""
    if isinstance(expressions, (str, bytes)) or not isinstance(expressions, (list, tuple)) \
            or not all(isinstance(e, str) for e in expressions):
        return "Checks must be a list of expressions, one per line."
    try:
        parsed_checks(expressions)
    except AssertionSyntaxError as exc:
        return str(exc)
    return None


def budget_of(spec: ProbeSpec, policy: FetchPolicy) -> Budget:
    """The run's time budget, started now: the shorter of the spec's timeout and the policy's deadline."""
    return Budget(within_timeout(spec, policy).total_timeout)


def within_timeout(spec: ProbeSpec, policy: FetchPolicy) -> FetchPolicy:
    """``policy`` with its deadlines cut to ``spec.timeout_seconds`` when that is shorter (the same policy,
    not a copy, when it is not — as with partnermon's own policies)."""
    limit = spec.timeout_seconds
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit < policy.total_timeout:
        return policy
    return policy.with_changes(total_timeout=limit, read_timeout=min(policy.read_timeout, limit),
                               connect_timeout=min(policy.connect_timeout, limit))


def failed(error: str, *, timings: Timings | None = None, blocked: bool = False, **extra: Any) -> Finding:
    return Finding(outcome="down", error=excerpt(error), timings=timings or Timings(), blocked=blocked,
                       details=dict(extra))


def from_fetch_error(exc: FetchError, **details: Any) -> Finding:
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
          hard_problems: Sequence[str] = (), soft_problems: Sequence[str] = (),
          details: dict[str, Any] | None = None, budget: Budget | None = None) -> Finding:
    """Turn a response, the spec's assertions and the kind's own findings into up / degraded / down.

    ``checks`` (default: the spec's) replace the default expectation of a working page (no 4xx or 5xx);
    ``hard_problems`` — what the kind itself found wrong, as sentences — do not, and come first: the
    result's error is the first of: the status problem, the kind's problems, the failed checks.
    The checks run within ``budget`` (the run's, started before the fetch; without one, the spec's
    timeout from now): past it the run is down, saying so."""
    result = Finding(outcome="up", status=response.status, timings=response.timings,
                         bytes_read=response.bytes_read, final_url=response.url, details=dict(details or {}))
    if response.truncated:
        result.details["truncated"] = True
    try:
        checks = parsed_checks(spec.checks) if checks is None else checks
        soft_checks = parsed_checks(spec.soft_checks) if soft_checks is None else soft_checks
    except (AssertionSyntaxError, TypeError) as exc:       # check() refuses these; a stored one may predate it
        result.outcome, result.error = "down", excerpt(f"A check could not be read: {exc}")
        return result
    own = list(hard_problems)
    if not checks:
        problem = status_problem(response)
        if problem:
            own.insert(0, problem)
    failures: list[str] = []
    soft_failures: list[str] = []
    if checks or soft_checks:
        subject = subject_of(response, now)
        if isinstance(result.details.get("human_contact"), list):  # the content kind judged the page
            subject.human_contact = result.details.get("human_contact_kinds") or []

        def evaluate(stop: threading.Event) -> tuple[list[str], list[str]]:
            hard = _failed(checks, subject, stop)
            return hard, ([] if own or hard else _failed(soft_checks, subject, stop))

        try:
            failures, soft_failures = (budget or _default_budget(spec)).within(evaluate)
        except OutOfTime as exc:
            result.outcome, result.error = "down", excerpt(str(exc))
            result.failed_checks = own + [str(exc)]
            return result
    if own or failures:
        result.outcome = "down"
        result.failed_checks = own + failures
        result.error = excerpt(own[0] if own else f"Check failed: {failures[0]}")
        return result
    soft_failures.extend(soft_problems)
    total = response.timings.total_ms
    if spec.degraded_after_ms is not None and total is not None and total > spec.degraded_after_ms:
        soft_failures.append(slower_than(spec.degraded_after_ms, total))
    if soft_failures:
        result.outcome = "degraded"
        result.failed_checks = soft_failures
        result.error = excerpt(soft_failures[0])
    return result


def _failed(assertions: Sequence[Assertion], subject: Subject, stop: threading.Event) -> list[str]:
    """Descriptions of the assertions that fail; stops between assertions once the budget is spent."""
    failures = []
    for assertion in assertions:
        if stop.is_set():
            break
        verdict = assertion.evaluate(subject)
        if not verdict.passed:
            failures.append(verdict.description)
    return failures


def _default_budget(spec: ProbeSpec) -> Budget:
    limit = spec.timeout_seconds
    return Budget(limit if isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit > 0 else 10.0)


def slower_than(limit_ms: int, took_ms: float) -> str:
    return f"Slower than {limit_ms:,} ms (took {took_ms:,.0f} ms)"


def parse_json_body(response: FetchResponse) -> tuple[Any, str | None]:
    try:
        return json.loads(response.text().lstrip("\ufeff")), None
    except (ValueError, RecursionError):                 # RecursionError: absurdly deep nesting
        return None, "The response is not JSON" + (" (it was cut off at the size limit)" if response.truncated else "")
