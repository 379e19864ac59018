"""The probe worker: claims due probes, runs them on a thread pool, records results in batches.

One dispatcher thread claims up to ``threads`` probes at a time and hands each to the pool when a thread
is free (a semaphore with one slot per thread), so at most a pool's worth of claims waits behind the ones
running: enough to keep every thread busy without holding many claims; the pool runs them; one recorder thread writes finished runs in
batches, because one transaction per batch is far cheaper than one per result. Nothing here decides
outcomes or incidents: that is ``runs`` and ``incidents``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

from sqlalchemy.orm import Session

from partnermon.db import database_down_reason, is_database_down
from partnermon.monitoring.runs import (
    LEASE_SECONDS, ClaimedProbe, FinishedRun, claim_due, record, run_claimed, seconds_until_next_due,
)
from probes.fetch import FetchPolicy

log = logging.getLogger(__name__)

RECORD_BATCH = 200
RECORD_EVERY_SECONDS = 0.25
IDLE_POLL_SECONDS = 1.0
DISPATCH_TICK = 0.2


class ProbeWorker:
    def __init__(self, session_factory: Callable[[], Session], policy: FetchPolicy, *, worker_id: str,
                 threads: int = 8, clock: Callable[[], datetime], idle_poll: float = IDLE_POLL_SECONDS,
                 lease_seconds: int = LEASE_SECONDS) -> None:
        self.session_factory = session_factory
        self.policy = policy
        self.worker_id = worker_id
        self.threads = threads
        self.clock = clock
        self.idle_poll = idle_poll
        self.lease_seconds = lease_seconds
        self._finished: queue.Queue[FinishedRun] = queue.Queue()
        self._free_threads = threading.Semaphore(threads)
        self.recorded = 0
        self.discarded = 0
        self._progress = threading.Condition()

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then finish what is running and record it."""
        # The recorder stops only once no run can be added any more (the pool has finished), not when
        # ``stop`` is set: a claim in flight at that moment still runs, and its result must be recorded.
        all_run = threading.Event()
        recorder = threading.Thread(target=self._record_until, args=(all_run,), name="probe-recorder", daemon=True)
        recorder.start()
        with ThreadPoolExecutor(self.threads, thread_name_prefix="probe") as pool:
            while not stop.is_set():
                try:
                    self._dispatch(pool, stop)
                except Exception as exc:  # nothing may end the worker; its claims' leases expire
                    if is_database_down(exc):  # expected while the database is away: one line a poll, no traceback
                        log.warning("probe worker %s: claiming paused: %s", self.worker_id, database_down_reason(exc))
                    else:
                        log.exception("probe worker %s: claiming failed", self.worker_id)
                    stop.wait(self.idle_poll)
        all_run.set()
        recorder.join()

    def _dispatch(self, pool: ThreadPoolExecutor, stop: threading.Event) -> None:
        now = self.clock()
        with self.session_factory() as session:
            claimed = claim_due(session, now, worker_id=self.worker_id, limit=self.threads,
                                lease_seconds=self.lease_seconds)
            wait = None if claimed else seconds_until_next_due(session, now)
        for claim in claimed:
            # Waits while every thread is busy, so the next claim is made only once this batch is under way.
            self._free_threads.acquire()
            pool.submit(self._run_one, claim)
        if len(claimed) < self.threads:
            # Caught up. Sleep until the next probe is due, but at least DISPATCH_TICK so that claims
            # gather what fell due meanwhile (lag <= tick), and at most idle_poll (new probes may appear).
            if claimed:
                with self.session_factory() as session:
                    wait = seconds_until_next_due(session, self.clock())
            wait = self.idle_poll if wait is None else wait
            stop.wait(min(self.idle_poll, max(DISPATCH_TICK, wait)))

    def _run_one(self, claim: ClaimedProbe) -> None:
        try:
            self._finished.put(run_claimed(claim, self.policy, self.clock))
        except Exception:  # probes.run never raises; this guards the clock or a bug in the glue
            log.exception("probe worker %s: running probe %s failed", self.worker_id, claim.probe_id)
        finally:
            self._free_threads.release()

    def wait_until_recorded(self, count: int, timeout: float) -> bool:
        """Block until at least ``count`` results are recorded (for tests, benchmarks and shutdown)."""
        with self._progress:
            return self._progress.wait_for(lambda: self.recorded >= count, timeout)

    def _record_until(self, all_run: threading.Event) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._record(batch)
            elif all_run.is_set() and self._finished.empty():
                return

    def _take_batch(self) -> list[FinishedRun]:
        # Wait for a first run, then gather for up to RECORD_EVERY_SECONDS (or RECORD_BATCH runs): one
        # transaction per batch only pays off if batches are more than one or two runs.
        try:
            batch = [self._finished.get(timeout=RECORD_EVERY_SECONDS)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + RECORD_EVERY_SECONDS
        while len(batch) < RECORD_BATCH:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._finished.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _record(self, batch: list[FinishedRun]) -> None:
        try:
            with self.session_factory() as session:
                report = record(session, self.clock(), self.worker_id, batch)
            with self._progress:
                self.recorded += report.recorded
                self.discarded += report.discarded
                self._progress.notify_all()
        except Exception as exc:
            # Not recorded means not advanced: the lease expires and the probes run again. Nothing is lost.
            if is_database_down(exc):
                log.warning("probe worker %s: %d results not recorded: %s", self.worker_id, len(batch),
                            database_down_reason(exc))
            else:
                log.exception("probe worker %s: recording %d results failed", self.worker_id, len(batch))
