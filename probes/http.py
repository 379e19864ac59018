"""``http``: is the page there, and how fast? Status (redirects followed), timing split and size."""

from __future__ import annotations

from datetime import datetime

from probes.base import ProbeKind, budget_of, from_fetch_error, judge, within_timeout
from probes.fetch import FetchError, FetchPolicy, fetch
from probes.spec import Finding, ProbeSpec


class HttpProbe(ProbeKind):
    name = "http"
    label = "Web page"
    description = "Loads the page (following redirects) and checks the status, speed and any assertions."

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        budget = budget_of(spec, policy)
        try:
            response = fetch(spec.url, policy=within_timeout(spec, policy), method=spec.method, headers=spec.headers,
                             body=spec.body)
        except FetchError as exc:
            return from_fetch_error(exc)
        return judge(response, spec, now, budget=budget)
