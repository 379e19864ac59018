"""The threaded probe worker against a real loopback server: every due probe runs once, workers share
the work without doubling it, and a dead worker's claims are taken over after their lease."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.db import utcnow
from partnermon.models import Probe, ProbeResult
from partnermon.monitoring.runs import claim_due, run_due
from partnermon.monitoring.worker import ProbeWorker
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from probes.fetch import FetchPolicy
from tests.factories import Cast, touchpoint
from tests.probe_servers import (  # noqa: F401 - fixtures
    ProbeServer, make_probe_server, policy, probe_certs, probe_server,
)


def probed_touchpoints(session: Session, cast: Cast, server: ProbeServer, count: int, due: datetime) -> list[str]:
    paths = []
    for i in range(count):
        path = f"/tp/{i}"
        server.route(path, body=b"<p>Call us on 0800 123 4567</p>")
        point = touchpoint(session, due, cast.acme, f"Page {i}", "service", server.url(path))
        probe_settings.save_probe(session, due, point, "test", {"kind": "http", "interval_seconds": "60"},
                                  rng=random.Random(i))
        paths.append(path)
    session.execute(Probe.__table__.update().values(next_due_at=due))
    session.commit()
    return paths


def start(worker: ProbeWorker) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def make_worker(runtime: Runtime, policy: FetchPolicy, name: str, clock: Callable[[], datetime] = utcnow,
                threads: int = 4) -> ProbeWorker:
    return ProbeWorker(runtime.session_factory, policy, worker_id=name, threads=threads, clock=clock, idle_poll=0.05)


def test_it_runs_every_due_probe_once_and_schedules_the_next_run(runtime: Runtime, session: Session, cast: Cast,
                                                                 probe_server: ProbeServer, policy: FetchPolicy) -> None:
    due = utcnow() - timedelta(seconds=1)
    paths = probed_touchpoints(session, cast, probe_server, 12, due)
    worker = make_worker(runtime, policy, "w1")
    stop, thread = start(worker)
    try:
        assert worker.wait_until_recorded(12, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert [probe_server.hits(p) for p in paths] == [1] * 12
    outcomes = session.scalars(select(ProbeResult.outcome)).all()
    assert outcomes == ["up"] * 12
    next_dues = set(session.scalars(select(Probe.next_due_at)).all())
    assert next_dues == {due + timedelta(seconds=60)}


def test_two_workers_running_together_never_run_one_due_probe_twice(runtime: Runtime, session: Session, cast: Cast,
                                                                    probe_server: ProbeServer,
                                                                    policy: FetchPolicy) -> None:
    due = utcnow() - timedelta(seconds=1)
    paths = probed_touchpoints(session, cast, probe_server, 40, due)
    first, second = make_worker(runtime, policy, "w1"), make_worker(runtime, policy, "w2")
    (stop1, t1), (stop2, t2) = start(first), start(second)
    try:
        for worker in (first, second):
            worker.wait_until_recorded(1, timeout=30)
        deadline = utcnow() + timedelta(seconds=30)
        while first.recorded + second.recorded < 40 and utcnow() < deadline:
            first.wait_until_recorded(first.recorded + 1, timeout=0.2)
    finally:
        stop1.set()
        stop2.set()
        t1.join(timeout=30)
        t2.join(timeout=30)
    assert first.recorded + second.recorded == 40
    assert first.discarded == second.discarded == 0
    assert [probe_server.hits(p) for p in paths] == [1] * 40
    per_touchpoint = session.execute(
        select(ProbeResult.touchpoint_id, func.count()).group_by(ProbeResult.touchpoint_id)).all()
    assert len(per_touchpoint) == 40 and {n for _, n in per_touchpoint} == {1}


def test_a_killed_workers_claims_are_retaken_after_the_lease(runtime: Runtime, session: Session, cast: Cast,
                                                             probe_server: ProbeServer, policy: FetchPolicy) -> None:
    due = utcnow() - timedelta(seconds=1)
    paths = probed_touchpoints(session, cast, probe_server, 5, due)
    # A worker claims everything and is killed before running any of it.
    assert len(claim_due(session, utcnow(), worker_id="killed", limit=10, lease_seconds=60)) == 5
    # Within the lease another worker finds nothing to take.
    assert run_due(runtime.session_factory, utcnow, policy, worker_id="w-now").recorded == 0
    later = make_worker(runtime, policy, "w-later", clock=lambda: utcnow() + timedelta(seconds=61))
    stop, thread = start(later)
    try:
        assert later.wait_until_recorded(5, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert [probe_server.hits(p) for p in paths] == [1] * 5
    assert set(session.scalars(select(ProbeResult.due_at)).all()) == {due}


def test_runs_claimed_just_as_the_worker_is_stopped_are_still_recorded(runtime: Runtime, session: Session, cast: Cast,
                                                                       probe_server: ProbeServer,
                                                                       policy: FetchPolicy) -> None:
    due = utcnow() - timedelta(seconds=1)
    paths = probed_touchpoints(session, cast, probe_server, 3, due)
    stop = threading.Event()
    calls = 0

    def slow_first_session() -> Session:
        # Stop arrives while the first claim is on its way to the database (a signal at the wrong moment);
        # the recorder meanwhile sees nothing running and nothing queued.
        nonlocal calls
        calls += 1
        if calls == 1:
            stop.set()
            threading.Event().wait(0.8)
        return runtime.session_factory()

    worker = ProbeWorker(slow_first_session, policy, worker_id="w1", threads=4, clock=utcnow, idle_poll=0.05)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [probe_server.hits(p) for p in paths] == [1] * 3
    # What was run is recorded, not left claimed until its lease runs out (and then run a second time).
    assert worker.recorded == 3
    assert session.scalar(select(func.count()).select_from(ProbeResult)) == 3
