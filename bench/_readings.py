"""Readings for the benchmarks: CPU and memory from /proc, machine load, percentiles, progress lines.

Linux only (it reads /proc); used by bench/probe_throughput.py.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone

CLK_TCK = os.sysconf("SC_CLK_TCK")
T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- /proc readings -------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def postgres_cpu_seconds(database: str) -> float:
    """CPU of the local PostgreSQL backends serving ``database`` (found by their process titles; shared
    background processes such as the WAL writer are not counted, nor backends that exit in the window:
    rare here, as the worker pools its connections)."""
    total = 0.0
    marker = f" {database} ".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() != "postgres":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if marker not in fh.read().replace(b"\0", b" "):
                    continue
            total += cpu_seconds(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts[:8]) - idle) / CLK_TCK


@dataclass
class CpuSnapshot:
    at: float
    worker: float
    server: float
    postgres: float
    machine: float

    @classmethod
    def take(cls, worker_pid: int | None, server_pid: int, database: str | None) -> "CpuSnapshot":
        return cls(time.monotonic(), cpu_seconds(worker_pid) if worker_pid else 0.0, cpu_seconds(server_pid),
                   postgres_cpu_seconds(database) if database else 0.0, machine_busy_seconds())


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


def r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def busy_cores(seconds: float = 2.0) -> float:
    before, t0 = machine_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / (time.monotonic() - t0)


def wait_for_quiet(max_wait: float, what: str) -> float:
    """With --wait-for-idle: wait (at most max_wait s) until the machine is nearly idle. Returns the busy
    cores last seen (measured over 2 s), which the report keeps with each run."""
    deadline = time.monotonic() + max_wait
    busy = busy_cores()
    while busy > 0.25 and time.monotonic() < deadline:
        log(f"{what}: the machine is busy ({busy:.2f} cores in use by others); waiting for it to quieten")
        busy = busy_cores(5.0)
    if busy > 0.25:
        log(f"WARNING {what}: measuring on a busy machine ({busy:.2f} cores in use by others)")
    return busy


def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None
