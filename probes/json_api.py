"""``json``: an API answers with JSON, and values inside it are what they should be.

Assertions reach into the body with paths: ``[BODY].status == "UP"``, ``len([BODY].items) > 0``.
A body that is not JSON is down, whatever the checks say (a 4xx/5xx answer is reported as such first).
"""

from __future__ import annotations

from datetime import datetime

from probes.base import ProbeKind, budget_of, from_fetch_error, judge, parse_json_body, within_timeout
from probes.fetch import FetchError, FetchPolicy, fetch
from probes.spec import Finding, ProbeSpec


class JsonProbe(ProbeKind):
    name = "json"
    label = "JSON API"
    description = "Calls an API and checks values inside its JSON answer."

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        headers = spec.headers
        if not any(name.lower() == "accept" for name, _ in headers):
            headers = (*headers, ("Accept", "application/json"))
        budget = budget_of(spec, policy)
        try:
            response = fetch(spec.url, policy=within_timeout(spec, policy), method=spec.method, headers=headers,
                             body=spec.body)
        except FetchError as exc:
            return from_fetch_error(exc)
        # The "not JSON" problem comes before the checks: "[BODY].status: body is not JSON" says less.
        _, problem = parse_json_body(response)
        return judge(response, spec, now, hard_problems=[problem] if problem else (), budget=budget)
