"""Issue 16, item 1: no pattern a practice owner types can freeze a worker for everyone.

Real parts: a loopback HTTP server serving a 1 MB page, the real probe kinds, and (for the worker) the real
database. Each run happens in a child process that the test waits for with a timeout and then ends, so a
regression shows up as a failed assertion rather than a suite that never ends (a thread would not do: Python's
``re`` holds the GIL while it backtracks, so the waiting thread would never run again).
"""

from __future__ import annotations

import multiprocessing
import random
import time
from datetime import timedelta
from typing import Any, Callable, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import probes
from partnermon.db import make_engine, make_session_factory, utcnow
from partnermon.models import Probe, ProbeResult, Touchpoint
from partnermon.monitoring.runs import run_due
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from probes.budget import MIN_CHECK_SHARE, Budget
from probes.fetch import FetchPolicy
from probes.spec import Finding, ProbeSpec
from tests.factories import Cast, touchpoint
from tests.probe_servers import (  # noqa: F401 - fixtures
    ProbeServer, make_probe_server, policy, probe_certs, probe_server,
)

T = TypeVar("T")

# The patterns of the issue: each took Python's backtracking engine minutes or hours on such a page.
SLOW_PATTERNS = [r"\w+\w+\w+\w+\w+!", r"\w+\s*\w+\s*\w+ Ltd", r"[^<]*[^<]*[^<]*[^<]*Z"]
# Runs of 400 letters and no "<": the worst case for all three. 1 MB.
MEGABYTE_PAGE = (("a" * 400 + " ") * (1_000_000 // 401)).encode()
TIMEOUT = 5


def finished_within(seconds: float, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``'s result from a child process, failing the test if it has not returned after ``seconds``.
    The child is ended either way, with anything it left running in the background."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(work, args)
        try:
            return pending.get(seconds)
        except multiprocessing.TimeoutError:
            pytest.fail(f"still running after {seconds} s")


def timed_run(spec: ProbeSpec, policy: FetchPolicy) -> tuple[Finding, float]:
    started = time.perf_counter()
    finding = probes.run(spec, policy, utcnow())
    return finding, time.perf_counter() - started


def run_due_apart(database_url: str, policy: FetchPolicy) -> int:
    engine = make_engine(database_url)
    try:
        return run_due(make_session_factory(engine), utcnow, policy, worker_id="w1").recorded
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["http", "content"])
def test_the_slow_patterns_of_issue_16_finish_within_the_probes_time_budget_on_a_1mb_page(
        probe_server: ProbeServer, policy: FetchPolicy, kind: str) -> None:
    probe_server.route("/big", body=MEGABYTE_PAGE, headers={"Content-Type": "text/html"})
    checks = tuple(f'[BODY] matches "{pattern}"' for pattern in SLOW_PATTERNS)
    spec = ProbeSpec(kind=kind, url=probe_server.url("/big"), checks=checks, timeout_seconds=TIMEOUT,
                     options={"human_contact": "off"} if kind == "content" else {})
    assert probes.check(spec) == {}
    finding, took = finished_within(TIMEOUT * 3, timed_run, spec, policy)
    assert took < TIMEOUT
    assert finding.outcome == "down" and finding.bytes_read == len(MEGABYTE_PAGE)
    assert finding.failed_checks == [f"{check} (no match)" for check in checks]


def test_checks_that_outlast_the_budget_end_the_run_as_down_on_time(probe_server: ProbeServer,
                                                                      policy: FetchPolicy) -> None:
    # Linear is not instant: this pattern makes RE2 leave its DFA and step ~500 threads per byte, seconds
    # on this page. The run must still end at its budget, saying why.
    rng = random.Random(16)
    probe_server.route("/ab", body="".join(rng.choice("ab") for _ in range(256_000)))
    budget = 0.3
    spec = ProbeSpec(kind="http", url=probe_server.url("/ab"), checks=("[STATUS] == 200", '[BODY] matches "a[ab]{500}!"',
                                                                        '[BODY] contains "never judged"'),
                     timeout_seconds=budget)
    finding, took = finished_within(30, timed_run, spec, policy)
    assert finding.outcome == "down" and finding.status == 200
    assert finding.error == ("The checks took longer than the probe's time budget (0.3 s); simplify its regular "
                             "expressions or give it a longer timeout")
    assert finding.failed_checks == [finding.error]
    assert took < budget * (1 + MIN_CHECK_SHARE) + 0.5


def test_a_journeys_extraction_rule_runs_on_re2_within_the_journeys_budget(probe_server: ProbeServer,
                                                                            policy: FetchPolicy) -> None:
    probe_server.route("/big", body=MEGABYTE_PAGE)
    spec = ProbeSpec(kind="journey", url=probe_server.url("/big"), timeout_seconds=TIMEOUT,
                     options={"steps": [{"name": "Home", "extract": {"ref": f"regex:({SLOW_PATTERNS[0]})"}}]})
    assert probes.check(spec) == {}
    finding, took = finished_within(TIMEOUT * 3, timed_run, spec, policy)
    assert took < TIMEOUT
    assert finding.outcome == "down" and finding.error == "Step 1 “Home” failed: could not find ref on the page"


def _probed(session: Session, where: Touchpoint, checks: str) -> None:
    probe_settings.save_probe(session, utcnow(), where, "test", {"kind": "http", "checks": checks,
                                                                  "timeout_seconds": str(TIMEOUT)})


def test_a_slow_pattern_in_one_practice_does_not_hold_up_another_practices_probes(
        runtime: Runtime, session: Session, cast: Cast, probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/big", body=MEGABYTE_PAGE)
    probe_server.route("/platform", body="<p>Log in</p>")
    now = utcnow()
    # Harbour's owner adds every slow pattern to one probe; Quay's probe is ordinary.
    harbour = touchpoint(session, now, cast.acme, "Big page", "service", probe_server.url("/big"))
    quay = touchpoint(session, now, cast.zenith, "Platform login", "service", probe_server.url("/platform"))
    _probed(session, harbour, "\n".join(f'[BODY] not matches "{pattern}"' for pattern in SLOW_PATTERNS))
    _probed(session, quay, '[BODY] contains "Log in"')
    session.execute(Probe.__table__.update().values(next_due_at=now - timedelta(seconds=1)))
    session.commit()

    recorded = finished_within(TIMEOUT * 3, run_due_apart, runtime.settings.database_url, policy)

    assert recorded == 2
    outcomes = dict(session.execute(select(ProbeResult.touchpoint_id, ProbeResult.outcome)).tuples().all())
    assert outcomes == {harbour.id: "up", quay.id: "up"}
    assert probe_server.hits("/big") == probe_server.hits("/platform") == 1


def test_a_stored_check_re2_cannot_run_makes_the_run_down_with_the_reason(probe_server: ProbeServer,
                                                                          policy: FetchPolicy) -> None:
    # Saved before partnermon ran patterns on RE2: the form and the CLI now refuse it, a run says why.
    probe_server.route("/", body="<p>Claims</p>")
    spec = ProbeSpec(kind="http", url=probe_server.url("/"), checks=('[BODY] matches "(C)laims\\1"',))
    finding: Finding = probes.run(spec, policy, utcnow())
    assert finding.outcome == "down"
    assert finding.error is not None and finding.error.startswith("A check could not be read: check 1: at position 24: "
                                                                  "the regular expression uses a backreference (\\1)")


def test_the_checks_minimum_share_is_given_once_per_run_not_once_per_step():
    budget = Budget(10)
    budget.deadline = time.perf_counter() - 1  # the fetch used the whole budget and more
    assert budget.within(lambda stop: "judged") == "judged"  # the first step still gets its share ...
    extended = budget.deadline
    assert 0 < budget.left() <= 10 * MIN_CHECK_SHARE
    assert budget.within(lambda stop: "also judged") == "also judged"
    assert budget.deadline == extended  # ... and a second step waits within it, not for a share of its own
