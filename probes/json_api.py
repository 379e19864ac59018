"""``json``: an API answers with JSON, and values inside it are what they should be.

Assertions reach into the body with paths: ``[BODY].status == "UP"``, ``len([BODY].items) > 0``.
A body that is not JSON is down.
"""

from __future__ import annotations

from datetime import datetime

from probes.base import ProbeKind, from_fetch_error, judge, parse_json_body
from probes.fetch import FetchError, FetchPolicy, fetch
from probes.spec import ProbeResult, ProbeSpec, excerpt


class JsonProbe(ProbeKind):
    name = "json"
    label = "JSON API"
    description = "Calls an API and checks values inside its JSON answer."

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        headers = spec.headers
        if not any(name.lower() == "accept" for name, _ in headers):
            headers = (*headers, ("Accept", "application/json"))
        try:
            response = fetch(spec.url, policy=policy, method=spec.method, headers=headers, body=spec.body)
        except FetchError as exc:
            return from_fetch_error(exc)
        result = judge(response, spec, now)
        if result.outcome != "down":
            _, problem = parse_json_body(response)
            if problem:
                result.outcome, result.error = "down", excerpt(problem)
                result.failed_checks = [problem, *result.failed_checks]
        return result
