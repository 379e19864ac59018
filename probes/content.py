"""``content``: does the page still say what clients need — and does it still offer a way to reach a person?

Options (all optional):
- ``expect_text``: texts that must appear (down if one is missing);
- ``reject_text``: texts that must not appear, e.g. "Service unavailable" (down if one does);
- ``human_contact``: ``"soft"`` (default: degraded when no phone, email, contact link or chat is found),
  ``"hard"`` (down instead) or ``"off"``. The result always says which ways of reaching a person it found.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from probes.assertions import parse_all
from probes.base import ProbeKind, from_fetch_error, judge
from probes.fetch import FetchError, FetchPolicy, fetch
from probes.human_contact import describe, find_human_contact
from probes.spec import ProbeResult, ProbeSpec

HUMAN_CONTACT_MODES = ("soft", "hard", "off")


def _texts(options: dict[str, Any], key: str) -> list[str]:
    value = options.get(key) or []
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    return [str(text).strip() for text in value if str(text).strip()]


def _contains(text: str, negate: bool) -> str:
    # json.dumps gives a correctly escaped string literal for the assertion language.
    return f"[BODY] {'not contains' if negate else 'contains'} {json.dumps(text, ensure_ascii=False)}"


class ContentProbe(ProbeKind):
    name = "content"
    label = "Page content and human contact"
    description = ("Loads the page and checks that expected text is there, unwanted text is not, "
                   "and that it still offers a phone number, email, contact link or chat.")

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        errors: dict[str, str] = {}
        mode = spec.options.get("human_contact", "soft")
        if mode not in HUMAN_CONTACT_MODES:
            errors["human_contact"] = "Human contact check must be one of: soft, hard, off."
        for key in ("expect_text", "reject_text"):
            if any(len(text) > 200 for text in _texts(spec.options, key)):
                errors[key] = "Each text must be at most 200 characters."
        return errors

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        try:
            response = fetch(spec.url, policy=policy, method=spec.method, headers=spec.headers, body=spec.body)
        except FetchError as exc:
            return from_fetch_error(exc)
        checks = parse_all([*spec.checks,
                            *(_contains(t, False) for t in _texts(spec.options, "expect_text")),
                            *(_contains(t, True) for t in _texts(spec.options, "reject_text"))])
        mode = spec.options.get("human_contact", "soft")
        details: dict[str, Any] = {}
        missing = None
        if mode != "off":
            contacts = find_human_contact(response.text(), response.url)
            details["human_contact"] = [{"kind": c.kind, "text": c.text, "href": c.href} for c in contacts[:10]]
            details["human_contact_summary"] = describe(contacts)
            if not contacts:
                missing = "No way to reach a person: " + describe(contacts)
        soft_problems = [missing] if missing and mode == "soft" else []
        result = judge(response, spec, now, checks=checks, soft_problems=soft_problems, details=details)
        if missing and mode == "hard" and result.outcome != "down":
            # The page works but a client could no longer reach anyone through it: that is the failure.
            result.outcome, result.error = "down", missing
            result.failed_checks = [missing, *result.failed_checks]
        return result
