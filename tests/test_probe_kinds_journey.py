"""The ``journey`` probe kind end to end through ``probes.run`` and ``probes.check``, against a real server on
loopback: extracting values and using them in later steps, naming the step that failed, the one deadline
the whole journey shares, and the checks on a journey's steps. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

import probes
from probes.fetch import FetchPolicy
from probes.spec import Finding, ProbeSpec
from tests.probe_servers import ProbeServer, make_probe_server, policy, probe_certs, probe_server  # noqa: F401

HTML = {"Content-Type": "text/html; charset=utf-8"}
HOME = '<nav><a href="/about">About</a> <a href="contact?from=home&amp;lang=en">Contact</a></nav>'
TOKEN = "a b&c=d/é"
CONTACT = json.dumps({"session": {"token": TOKEN, "ids": [7, 8]}})


def journey(url: str, steps: list[dict[str, Any]], **fields: Any) -> ProbeSpec:
    return ProbeSpec(kind="journey", url=url, options={"steps": steps}, **fields)


def run(spec: ProbeSpec, policy: FetchPolicy) -> Finding:
    assert probes.check(spec) == {}, "the journey under test must itself be valid"
    return probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))


def site(server: ProbeServer) -> None:
    """/ redirects to /site/home, which links (relatively) to /site/contact: JSON with a token."""
    server.redirect("/", "/site/home")
    server.route("/site/home", body=HOME, headers=HTML)
    server.route("/site/contact", body=CONTACT, headers={"Content-Type": "application/json"})
    server.echo("/api/claims")


STEPS: list[dict[str, Any]] = [
    {"name": "Home page", "checks": ['[BODY] contains "Contact"'],
     "extract": {"contact": 'regex:href="([^"]*)">Contact<'}},
    {"name": "Contact page", "url": "{contact}", "extract": {"token": "json:session.token", "second": "json:session.ids.1"}},
    {"name": "Claims API", "url": "/api/claims?token={token}&n={second}", "method": "POST",
     "headers": {"X-Token": "{token}"}, "body": '{"id": {second}}', "checks": ['[BODY].method == "POST"']},
]


def test_a_journey_follows_links_and_carries_values(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    site(probe_server)
    result = run(journey(probe_server.url("/"), STEPS), policy)
    assert result.outcome == "up" and result.error is None, result.error
    # The link was found on the page (entities decoded) and followed relative to the redirected page.
    assert probe_server.last("/site/contact").path == "/site/contact?from=home&lang=en"
    # The token went into a header as it was, and into the query string as one escaped value.
    echoed = probe_server.last("/api/claims")
    assert echoed.header("X-Token") == TOKEN
    assert echoed.path == "/api/claims?token=a%20b%26c%3Dd%2F%C3%A9&n=8"
    assert (echoed.method, echoed.body) == ("POST", b'{"id": 8}')
    steps = result.details["steps"]
    assert [(s["name"], s["status"], s["outcome"]) for s in steps] == [
        ("Home page", 200, "up"), ("Contact page", 200, "up"), ("Claims API", 200, "up")]
    assert steps[0]["url"] == probe_server.url("/site/home") and "failed_step" not in result.details
    assert result.final_url == probe_server.url("/api/claims") + "?token=a%20b%26c%3Dd%2F%C3%A9&n=8"
    assert result.timings.total_ms == pytest.approx(sum(s["total_ms"] for s in steps))
    assert result.bytes_read > len(HOME) + len(CONTACT)          # every step's body counts


def test_a_failing_middle_step_is_named_and_later_steps_do_not_run(probe_server: ProbeServer,
                                                                   policy: FetchPolicy) -> None:
    site(probe_server)
    probe_server.route("/site/contact", status=404, body=b"gone")
    result = run(journey(probe_server.url("/"), STEPS), policy)
    assert result.outcome == "down" and result.status == 404
    assert result.error == "Step 2 “Contact page” failed: the page answered HTTP 404 Not Found"
    assert result.details["failed_step"] == "Step 2 “Contact page”"
    assert [(s["name"], s["outcome"]) for s in result.details["steps"]] == [("Home page", "up"),
                                                                             ("Contact page", "down")]
    assert probe_server.hits("/api/claims") == 0


def test_a_failed_step_check_is_quoted(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    site(probe_server)
    probe_server.route("/site/home", body=HOME.replace("Contact", "Talk"), headers=HTML)
    result = run(journey(probe_server.url("/"), STEPS), policy)
    assert result.error == 'Step 1 “Home page” failed a check: [BODY] contains "Contact" (not found)'
    assert result.failed_checks == ['[BODY] contains "Contact" (not found)']
    assert probe_server.hits("/site/contact") == 0


def test_a_value_that_is_not_found_stops_the_journey(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    site(probe_server)
    probe_server.route("/site/contact", body='{"session": {}}', headers={"Content-Type": "application/json"})
    result = run(journey(probe_server.url("/"), STEPS), policy)
    assert result.outcome == "down"
    assert result.error == "Step 2 “Contact page” failed: could not find token in the response"
    assert result.details["steps"][-1]["outcome"] == "down"
    assert probe_server.hits("/api/claims") == 0


def test_a_step_that_is_blocked_says_so(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    site(probe_server)
    steps = [STEPS[0], {"name": "Intranet", "url": "http://10.0.0.5/"}]
    result = run(journey(probe_server.url("/"), steps), policy)
    assert result.outcome == "down" and result.blocked
    assert result.error is not None and result.error.startswith("Step 2 “Intranet” failed: blocked: 10.0.0.5 is")


@pytest.mark.parametrize("where", ["policy", "spec"])
def test_the_whole_journey_shares_one_deadline(probe_server: ProbeServer, policy: FetchPolicy, where: str) -> None:
    # Each step alone is well within the limit; together they are not.
    for path in ("/one", "/two", "/three"):
        probe_server.route(path, body=b"ok", delay=0.35)
    steps = [{"name": "First", "url": "/one"}, {"name": "Second", "url": "/two"}, {"name": "Third", "url": "/three"}]
    fields: dict[str, Any] = {"timeout_seconds": 0.9} if where == "spec" else {}
    limited = policy.with_changes(total_timeout=0.9) if where == "policy" else policy
    started = time.perf_counter()
    result = run(journey(probe_server.url("/"), steps, **fields), limited)
    elapsed = time.perf_counter() - started
    assert result.outcome == "down"
    assert result.error == ("Step 3 “Third” ran out of time while waiting for the first byte: "
                            "the whole journey may take at most 0.9 s")
    assert result.details["failed_step"] == "Step 3 “Third”"
    assert [s["outcome"] for s in result.details["steps"]] == ["up", "up", "down"]
    assert 0.85 < elapsed < 1.4


def test_a_slow_journey_is_degraded_as_a_whole(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/one", body=b"ok", delay=0.1)
    probe_server.route("/two", body=b"ok", delay=0.1)
    steps = [{"url": "/one"}, {"url": "/two"}]
    result = run(journey(probe_server.url("/"), steps, degraded_after_ms=150), policy)
    assert result.outcome == "degraded" and result.error is not None
    assert result.error.startswith("Slower than 150 ms (took ")
    assert [s["name"] for s in result.details["steps"]] == ["Step 1", "Step 2"]


def test_a_step_without_a_name_is_called_by_its_number(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/one", body=b"ok")
    result = run(journey(probe_server.url("/"), [{"url": "/one"}, {"url": "/two"}]), policy)
    assert result.error == "Step 2 failed: the page answered HTTP 404 Not Found"
    assert result.details["failed_step"] == "Step 2"


# --- checking a journey before it runs ----------------------------------------------------------

@pytest.mark.parametrize("steps, message", [
    ({"url": "/"}, "Steps must be a list of objects, one per step."),
    ([], "A journey needs at least one step."),
    ([{}] * 11, "A journey may have at most 10 steps."),
    (["/contact"], "Step 1 must be an object with a name and a url."),
    ([{"name": "Home", "wait": 5}], "Step 1 has unknown field(s): wait."),
    ([{}, {"name": "Next"}], "Step 2 needs a url."),
    ([{"url": 5}], "Step 1: url must be text."),
    ([{"method": "BREW"}], "Step 1: method must be one of GET, POST, PUT, PATCH, DELETE, HEAD."),
    ([{"headers": {"X-Token": 5}}], "Step 1: headers must map names to text."),
    ([{"checks": "[STATUS] == 200"}], "Step 1: checks must be a list of expressions."),
    ([{"checks": [200]}], "Step 1: Checks must be a list of expressions, one per line."),
    ([{"extract": {"x": "regex:(?<=id=)\\d+"}}], "Step 1: in the regex for x, the regular expression uses a "
                                                 "look-behind (?<=…), which partnermon does not support"),
    ([{"extract": {"x": "regex:("}}], "Step 1: in the regex for x, invalid regular expression: a ( is not closed"),
    ([{"extract": {"x": "css:a.contact"}}], "Step 1: the rule for x must start with regex: or json:."),
    ([{"extract": {"x": "json:"}}], "Step 1: the rule for x needs a path after json:"),
    ([{"extract": {"2x": "json:a"}}], "Step 1: “2x” is not a usable name"),
    ([{}, {"url": "/claims?t={token}"}], "Step 2 uses {token}, which no earlier step extracts."),
    ([{"extract": {"token": "json:t"}, "headers": {"X-Token": "{token}"}}],
     "Step 1 uses {token}, which no earlier step extracts."),
])
def test_check_explains_unusable_steps(steps: Any, message: str) -> None:
    problems = probes.check(ProbeSpec(kind="journey", url="https://partner.test/", options={"steps": steps}))
    assert list(problems) == ["steps"] and problems["steps"].startswith(message), problems


def test_check_names_a_bad_check_expression_in_a_step() -> None:
    problems = probes.check(journey("https://partner.test/", [{}, {"url": "/x", "checks": ["[STATUS] =="]}]))
    assert problems["steps"].startswith("Step 2: check 1: ") and "position" in problems["steps"]


def test_check_refuses_checks_on_the_journey_itself() -> None:
    for field in ("checks", "soft_checks"):
        spec = journey("https://partner.test/", [{}], **{field: ("[STATUS] == 200",)})
        assert probes.check(spec) == {
            "checks": "A journey's checks go on its steps, so the result can say which step failed."}


def test_an_unusable_journey_is_down_without_a_request(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    spec = journey(probe_server.url("/"), [{}, {"url": "/next?t={token}"}])
    result = probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))
    assert result.outcome == "down"
    assert result.error == "This journey cannot run: Step 2 uses {token}, which no earlier step extracts."
    assert probe_server.requests == []
