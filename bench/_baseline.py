"""Comparing a benchmark against an older commit in the same run, on the same machine at the same time.

``export_tree`` writes the commit's files (``git archive``: no worktree is registered, nothing in the repository
changes) into a temporary folder. ``Side`` runs one copy of the code in a process of its own (``python
bench/dashboard.py --serve --code DIR``): the newer code and the older cannot share a process, as both are the
``partnermon`` package. ``alternate`` then asks the sides for small batches of requests in turn, swapping which
goes first each round, so a busy moment on a shared machine falls on both alike rather than on whichever ran
second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Sequence

from _readings import log, percentile, r


def export_tree(repo: Path, ref: str) -> tuple[Path, str]:
    """The files of ``ref`` in a new temporary folder, and the commit's full id."""
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", f"{ref}^{{commit}}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix=f"bench-baseline-{commit[:8]}-"))
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryFile() as fh:
        fh.write(archive)
        fh.seek(0)
        with tarfile.open(fileobj=fh) as tar:
            tar.extractall(folder, filter="data")
    return folder, commit


class Side:
    """One copy of the code, seeded and signed in, answering "time this page n times" on its stdin."""

    def __init__(self, name: str, script: Path, code: Path, options: Sequence[str]) -> None:
        self.name = name
        log(f"{name}: starting from {code}")
        self.process = subprocess.Popen([sys.executable, str(script), "--serve", "--code", str(code), *options],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.hello: dict[str, Any] = self._read()    # what it made: seeding figures and the partners' ranking
        self.times: dict[str, list[float]] = {}
        self.cpu_ms: dict[str, float] = {}

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"bench: the {self.name} side stopped (see its messages above)")
        return json.loads(line)

    def ask(self, label: str, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        answer = self._read()
        self.times.setdefault(label, []).extend(answer["ms"])
        self.cpu_ms[label] = self.cpu_ms.get(label, 0.0) + answer["cpu_ms"]

    def check(self, request: dict[str, Any]) -> int:
        """The status this side's page answers with (200, or 404 where its code has no such page)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({**request, "check": True}) + "\n")
        return int(self._read()["status"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=600)

    def summary(self, label: str) -> dict[str, Any]:
        times = sorted(self.times[label])
        return {"requests": len(times), "p50_ms": r(percentile(times, 0.5), 1), "p95_ms": r(percentile(times, 0.95), 1),
                "max_ms": r(times[-1], 1), "mean_ms": r(sum(times) / len(times), 1),
                "python_cpu_ms_per_request": r(self.cpu_ms[label] / len(times), 1)}


def alternate(sides: Sequence[Side], pages: dict[str, dict[str, Any]], requests: int, batch: int) -> None:
    """``requests`` of each page from each side, ``batch`` at a time, the sides taking turns to go first."""
    rounds = max(1, -(-requests // batch))
    for number in range(rounds):
        count = min(batch, requests - number * batch)
        order = sides if number % 2 == 0 else list(reversed(sides))
        for label, request in pages.items():
            for side in order:
                side.ask(label, {**request, "count": count})
        if (number + 1) % max(1, rounds // 10) == 0:
            log(f"round {number + 1}/{rounds}")
