"""``content``: does the page still say what clients need — and does it still offer a way to reach a person?

Options (all optional):
- ``expect_text``: texts that must appear (down if one is missing);
- ``reject_text``: texts that must not appear, e.g. "Service unavailable" (down if one does);
- ``human_contact``: ``"soft"`` (default: degraded when no phone, email, contact link or chat is found),
  ``"hard"`` (down instead) or ``"off"``. The result says which ways of reaching a person it found, each
  with the text it came from, and what it left out and why (``probes.human_contact``); numbers written
  without a country code are read by the page's language tag, else ``spec.region`` (the practice's country).

Texts are a list (or one text per line) and are matched case-sensitively in the page as sent. They add
to the page's own checks: a page answering 4xx or 5xx is down even when its texts are all fine. The texts
and the contact scan run within the probe's time budget, as the checks do (probes.budget).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Mapping

from probes.base import ProbeKind, budget_of, failed, from_fetch_error, judge, within_timeout
from probes.budget import OutOfTime
from probes.fetch import FetchError, FetchPolicy, fetch
from probes.human_contact import judge_page
from probes.settings import SettingsError, lines
from probes.spec import Finding, ProbeSpec, excerpt

HUMAN_CONTACT_MODES = ("soft", "hard", "off")
HUMAN_CONTACT_CHOICES = (
    ("soft", "Warn (degraded) when the page offers no way to reach a person"),
    ("hard", "Fail (down) when the page offers no way to reach a person"),
    ("off", "Do not look for a way to reach a person"),
)
BAD_HUMAN_CONTACT = "Human contact check must be one of: soft, hard, off."
MAX_TEXT_CHARS = 200
MAX_TEXTS = 20
NO_HUMAN_CONTACT = "The page no longer offers a way to reach a person ({found})"


def _texts(options: dict[str, Any], key: str) -> list[str]:
    value = options.get(key) or []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        return []                                       # check() refuses it; run() ignores it
    return [str(text).strip() for text in value if str(text).strip()]


def _quoted(text: str, limit: int = 80) -> str:
    return "“" + (text if len(text) <= limit else text[: limit - 1] + "…") + "”"


class ContentProbe(ProbeKind):
    name = "content"
    label = "Page content and human contact"
    description = ("Loads the page and checks that expected text is there, unwanted text is not, "
                   "and that it still offers a phone number, email, contact link or chat.")
    option_fields = ("expect_text", "reject_text", "human_contact")
    human_contact_choices = HUMAN_CONTACT_CHOICES

    def clean_options(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        mode = str(typed.get("human_contact") or "soft")
        if mode not in HUMAN_CONTACT_MODES:
            raise SettingsError({"human_contact": BAD_HUMAN_CONTACT})
        return {"expect_text": lines(typed.get("expect_text")), "reject_text": lines(typed.get("reject_text")),
                "human_contact": mode}

    def form_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"expect_text": "\n".join(options.get("expect_text") or ()),
                "reject_text": "\n".join(options.get("reject_text") or ()),
                "human_contact": options.get("human_contact", "soft")}

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        errors: dict[str, str] = {}
        mode = spec.options.get("human_contact", "soft")
        if mode not in HUMAN_CONTACT_MODES:
            errors["human_contact"] = BAD_HUMAN_CONTACT
        for key in ("expect_text", "reject_text"):
            value = spec.options.get(key)
            if value is not None and not isinstance(value, (str, list, tuple)):
                errors[key] = "Give the texts as a list, one per line."
            elif any(len(text) > MAX_TEXT_CHARS for text in _texts(spec.options, key)):
                errors[key] = f"Each text must be at most {MAX_TEXT_CHARS} characters."
            elif len(_texts(spec.options, key)) > MAX_TEXTS:
                errors[key] = f"At most {MAX_TEXTS} texts."
        return errors

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        budget = budget_of(spec, policy)
        try:
            response = fetch(spec.url, policy=within_timeout(spec, policy), method=spec.method, headers=spec.headers,
                             body=spec.body)
        except FetchError as exc:
            return from_fetch_error(exc)
        page = response.text()
        mode = spec.options.get("human_contact", "soft")

        def read_page(stop: threading.Event) -> tuple[list[str], list[str], dict[str, Any]]:
            problems = [f"The page does not contain {_quoted(t)}" for t in _texts(spec.options, "expect_text")
                        if t not in page]
            problems += [f"The page contains {_quoted(t)}" for t in _texts(spec.options, "reject_text") if t in page]
            details: dict[str, Any] = {}
            soft_problems: list[str] = []
            asked = any("HUMAN_CONTACT" in check.upper() for check in (*spec.checks, *spec.soft_checks))
            if (mode in ("soft", "hard") or asked) and not stop.is_set():
                verdict = judge_page(response.body, response.url, spec.region, response.header("content-type"))
                details.update(verdict.details())
                if verdict.reachable is False and mode != "off":  # None: not a page that can be judged (a PDF): that says nothing
                    missing = NO_HUMAN_CONTACT.format(found=details["human_contact_summary"])
                    # hard: a client could no longer reach anyone through the page, and that is the failure.
                    (problems if mode == "hard" else soft_problems).append(missing)
            return problems, soft_problems, details

        try:
            problems, soft_problems, details = budget.within(read_page)
        except OutOfTime as exc:
            result = failed(str(exc), timings=response.timings)
            result.status, result.bytes_read, result.final_url = response.status, response.bytes_read, response.url
            result.failed_checks = [excerpt(str(exc))]
            return result
        return judge(response, spec, now, hard_problems=problems, soft_problems=soft_problems, details=details,
                     budget=budget)
