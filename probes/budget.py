"""A probe's time budget: one deadline for a whole run, the fetch and the checks on what came back.

The fetch keeps its own deadlines (probes.fetch). What runs afterwards on the page — assertions, a
journey's extraction rules, the content kind's texts and contact scan — runs through ``Budget.within``:

* in a helper thread, waited for only until the deadline. That is the hard part: a single RE2 search
  cannot be interrupted, and although RE2 is linear in the text, a large pattern whose DFA gives up runs
  at (text × pattern size) — seconds to minutes on 2 MB. Waiting with a timeout means the run still ends
  on time and its result is recorded, so the worker's thread goes on to other practices' probes. RE2
  releases the GIL while it searches, so the abandoned search does not stall the worker's other threads
  either; it finishes in the background, bounded by the byte cap and probes.user_regex's size cap, and
  the work stops at its next step (the ``stop`` event it is handed).
* with at least ``MIN_CHECK_SHARE`` of the budget, even when the fetch used nearly all of it: a page that
  arrives just inside its timeout is still judged rather than failed for its checks. That share is given
  once per run, however many steps wait on the budget, so a run ends within 1.1 × its timeout.

Why not a process per run: forking a worker that holds database connections and threads for every
probe costs more than the risk it removes, and the thread's leftover work is bounded as above.
Nothing here touches the network.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from probes.network_words import seconds

T = TypeVar("T")

MIN_CHECK_SHARE = 0.1


class OutOfTime(Exception):
    """The work on the page did not finish within the probe's time budget; ``str()`` says so for the owner."""


class Budget:
    """``seconds`` from now (perf_counter), for one probe run."""

    def __init__(self, limit_seconds: float) -> None:
        self.seconds = float(limit_seconds)
        self.deadline = time.perf_counter() + self.seconds
        self._share_given = False

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def overrun_message(self) -> str:
        return (f"The checks took longer than the probe's time budget ({seconds(self.seconds)}); "
                f"simplify its regular expressions or give it a longer timeout")

    def within(self, work: Callable[[threading.Event], T]) -> T:
        """``work(stop)``'s result, or OutOfTime once the budget is spent. ``work`` should return early when
        ``stop`` is set (it is checked between steps: a step in progress runs to its end in the background)."""
        stop = threading.Event()
        outcome: list[T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(work(stop))
            except BaseException as exc:  # noqa: BLE001 - handed back to the waiting thread below
                failure.append(exc)

        helper = threading.Thread(target=run, name="probe-checks", daemon=True)
        helper.start()
        if not self._share_given:  # the checks' minimum share, once per run (see the module docstring)
            self.deadline = max(self.deadline, time.perf_counter() + self.seconds * MIN_CHECK_SHARE)
            self._share_given = True
        helper.join(max(self.left(), 0.0))
        if helper.is_alive():
            stop.set()
            raise OutOfTime(self.overrun_message())
        if failure:
            raise failure[0]
        return outcome[0]


__all__ = ["Budget", "MIN_CHECK_SHARE", "OutOfTime"]
